/** zod validation failures as 400 `{ error: { code: 'VALIDATION', message, details } }`, naming the field. */
import type { Hook } from '@hono/zod-openapi';

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  keys?: string[];
}

export function fieldOf(issue: Issue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) path.push(issue.keys[0]!);
  return path.length ? path.join('.') : '(body)';
}

export function describeIssues(issues: Issue[], target: string) {
  const details = issues.slice(0, 20).map((i) => ({ field: fieldOf(i), message: i.code === 'unrecognized_keys' ? 'unknown field' : i.message }));
  const first = details[0]!;
  return { message: `${target === 'json' ? '' : `${target} `}${first.field}: ${first.message}`, details };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const validationHook: Hook<any, any, any, any> = (result, c) => {
  if (!result.success) {
    const r = result as unknown as { error: { issues: Issue[] }; target: string };
    const { message, details } = describeIssues(r.error.issues, r.target);
    return c.json({ error: { code: 'VALIDATION', message, details } }, 400);
  }
};
