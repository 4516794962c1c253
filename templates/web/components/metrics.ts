/** The biometric metrics of the helfy_app schema, with the unit the web app logs and shows them in. */
export interface MetricInfo {
  label: string;
  /** The unit shown and typed in. */
  unit: string;
  /** The unit the API stores the metric in (its /openapi.json), and display value = API value / scale. */
  apiUnit: string;
  scale: number;
  /** Digits after the decimal point when shown. */
  digits: number;
  /** A label short enough for a dashboard tile. */
  short?: string;
}

export const METRICS: Record<string, MetricInfo> = {
  weight: { label: 'Weight', unit: 'kg', apiUnit: 'kg', scale: 1, digits: 1 },
  resting_heart_rate: { label: 'Resting heart rate', short: 'Resting HR', unit: 'bpm', apiUnit: 'bpm', scale: 1, digits: 0 },
  heart_rate: { label: 'Heart rate', unit: 'bpm', apiUnit: 'bpm', scale: 1, digits: 0 },
  hrv: { label: 'Heart-rate variability', unit: 'ms', apiUnit: 'ms', scale: 1, digits: 0 },
  steps: { label: 'Steps', unit: 'count', apiUnit: 'count', scale: 1, digits: 0 },
  sleep: { label: 'Sleep', unit: 'h', apiUnit: 'min', scale: 60, digits: 1 },
  body_fat: { label: 'Body fat', unit: '%', apiUnit: '%', scale: 1, digits: 1 },
  blood_pressure_systolic: { label: 'Blood pressure (systolic)', unit: 'mmHg', apiUnit: 'mmHg', scale: 1, digits: 0 },
  blood_pressure_diastolic: { label: 'Blood pressure (diastolic)', unit: 'mmHg', apiUnit: 'mmHg', scale: 1, digits: 0 },
  blood_glucose: { label: 'Blood glucose', unit: 'mmol/L', apiUnit: 'mmol/L', scale: 1, digits: 1 },
  spo2: { label: 'Blood oxygen', unit: '%', apiUnit: '%', scale: 1, digits: 0 },
  body_temperature: { label: 'Body temperature', unit: '°C', apiUnit: 'degC', scale: 1, digits: 1 },
};

export const DASHBOARD_METRICS = ['weight', 'resting_heart_rate', 'steps', 'sleep'] as const;

export function metricInfo(metric: string): MetricInfo {
  return METRICS[metric] ?? { label: metric, unit: '', apiUnit: '', scale: 1, digits: 1 };
}

// Intl formatters are costly to create (toLocaleString makes one per call): one per digit count.
const numberFormats = new Map<number, Intl.NumberFormat>();
function numberFormat(digits: number): Intl.NumberFormat {
  let f = numberFormats.get(digits);
  if (!f) numberFormats.set(digits, (f = new Intl.NumberFormat('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f;
}

export function formatValue(metric: string, value: number): string {
  return numberFormat(metricInfo(metric).digits).format(value);
}

export const formatInteger = (value: number): string => numberFormat(0).format(value);

const dayFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
/** `1 Dec`: days are UTC days, as the API buckets them. */
export const dayLabel = (t: number): string => dayFormat.format(t);
