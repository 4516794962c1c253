/** Each biometric metric's one accepted unit and its plausible range (what the API refuses outside). */
import type { BiometricMetric } from '../db/schema.js';

export const METRICS: Record<BiometricMetric, { unit: string; min: number; max: number; minExclusive?: boolean }> = {
  heart_rate: { unit: 'bpm', min: 20, max: 250 },
  resting_heart_rate: { unit: 'bpm', min: 20, max: 200 },
  hrv: { unit: 'ms', min: 0, max: 500 },
  weight: { unit: 'kg', min: 0, max: 500, minExclusive: true },
  body_fat: { unit: '%', min: 0, max: 100 },
  lean_mass: { unit: 'kg', min: 0, max: 300, minExclusive: true },
  bmi: { unit: 'kg/m2', min: 5, max: 100 },
  steps: { unit: 'count', min: 0, max: 200_000 },
  distance: { unit: 'm', min: 0, max: 1_000_000 },
  active_energy: { unit: 'kcal', min: 0, max: 20_000 },
  sleep: { unit: 'min', min: 0, max: 1440 },
  sleep_score: { unit: 'score', min: 0, max: 100 },
  blood_pressure_systolic: { unit: 'mmHg', min: 40, max: 300 },
  blood_pressure_diastolic: { unit: 'mmHg', min: 20, max: 200 },
  blood_glucose: { unit: 'mmol/L', min: 0.5, max: 50 },
  spo2: { unit: '%', min: 50, max: 100 },
  respiratory_rate: { unit: 'breaths/min', min: 1, max: 80 },
  body_temperature: { unit: 'degC', min: 25, max: 45 },
  vo2max: { unit: 'ml/kg/min', min: 5, max: 100 },
};

export function rangeError(metric: BiometricMetric, value: number): string | undefined {
  const m = METRICS[metric];
  const low = m.minExclusive ? value <= m.min : value < m.min;
  if (low || value > m.max) return `${metric} must be ${m.minExclusive ? `above ${m.min}` : `at least ${m.min}`} and at most ${m.max} ${m.unit}`;
  return undefined;
}

/** Bucket widths the series query accepts (query value → PostgreSQL interval). */
export const BUCKETS = {
  '1m': '1 minute',
  '5m': '5 minutes',
  '15m': '15 minutes',
  '1h': '1 hour',
  '6h': '6 hours',
  '1d': '1 day',
  '7d': '7 days',
} as const;
export const BUCKET_SECONDS: Record<keyof typeof BUCKETS, number> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21600, '1d': 86400, '7d': 604800 };
