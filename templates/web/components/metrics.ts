/** The biometric metrics of the helfy_app schema, with the unit the web app logs and shows them in. */
export interface MetricInfo {
  label: string;
  unit: string;
  /** Digits after the decimal point when shown. */
  digits: number;
  min: number;
  max: number;
}

export const METRICS: Record<string, MetricInfo> = {
  weight: { label: 'Weight', unit: 'kg', digits: 1, min: 1, max: 500 },
  resting_heart_rate: { label: 'Resting heart rate', unit: 'bpm', digits: 0, min: 20, max: 250 },
  heart_rate: { label: 'Heart rate', unit: 'bpm', digits: 0, min: 20, max: 250 },
  hrv: { label: 'Heart-rate variability', unit: 'ms', digits: 0, min: 1, max: 300 },
  steps: { label: 'Steps', unit: 'count', digits: 0, min: 0, max: 200000 },
  sleep: { label: 'Sleep', unit: 'h', digits: 1, min: 0, max: 24 },
  body_fat: { label: 'Body fat', unit: '%', digits: 1, min: 1, max: 80 },
  blood_pressure_systolic: { label: 'Blood pressure (systolic)', unit: 'mmHg', digits: 0, min: 50, max: 260 },
  blood_pressure_diastolic: { label: 'Blood pressure (diastolic)', unit: 'mmHg', digits: 0, min: 30, max: 180 },
  blood_glucose: { label: 'Blood glucose', unit: 'mmol/L', digits: 1, min: 1, max: 40 },
  spo2: { label: 'Blood oxygen', unit: '%', digits: 0, min: 50, max: 100 },
  body_temperature: { label: 'Body temperature', unit: '°C', digits: 1, min: 30, max: 45 },
};

export const DASHBOARD_METRICS = ['weight', 'resting_heart_rate', 'steps', 'sleep'] as const;

export function metricInfo(metric: string): MetricInfo {
  return METRICS[metric] ?? { label: metric, unit: '', digits: 1, min: -Infinity, max: Infinity };
}

export function formatValue(metric: string, value: number): string {
  const m = metricInfo(metric);
  return value.toLocaleString('en-GB', { minimumFractionDigits: m.digits, maximumFractionDigits: m.digits });
}
