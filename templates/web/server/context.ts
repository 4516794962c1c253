/** What the Hono server hands to the pages of one request (read in +data hooks, server side only). */
import type { Context } from 'hono';
import type { Session } from './session.js';

export interface FormState {
  /** The submitted values, to fill the form again. */
  values: Record<string, string>;
  /** Form field name → message (from the API's `details[].field`, or the server's own checks). */
  errors: Record<string, string>;
  /** A message that belongs to no one field. */
  message?: string;
}

export interface Viewer {
  email?: string;
}

export interface WebVariables {
  session: Session | null;
  form: FormState | undefined;
  /**
   * Headers for the final response, added once the handler has answered. Hono drops headers set
   * with c.header() when a handler returns its own Response (Vike's, for every page), so cookies set
   * before rendering go here instead.
   */
  extraHeaders: Headers;
}

export type WebContext = Context<{ Variables: WebVariables }>;

/** The Hono context of the request being rendered (Vike puts it on pageContext.runtime.hono). */
export function honoOf(pageContext: object): WebContext | undefined {
  return (pageContext as { runtime?: { hono?: WebContext } }).runtime?.hono;
}

export function sessionOf(pageContext: object): Session | null {
  return honoOf(pageContext)?.get('session') ?? null;
}

export function formOf(pageContext: object): FormState | undefined {
  return honoOf(pageContext)?.get('form');
}

/** Adds a header to whatever response this request ends with (see WebVariables.extraHeaders). */
export function addHeader(c: Context, name: string, value: string): void {
  (c as WebContext).get('extraHeaders').append(name, value);
}

/** The address of the browser's connection (srvx puts it on the request), never a forwarded header. */
export function clientIp(c: Context): string | undefined {
  const ip = (c.req.raw as Request & { ip?: string }).ip;
  if (!ip) return undefined;
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
