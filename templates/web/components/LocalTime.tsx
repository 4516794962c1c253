/**
 * A datetime-local input plus the browser's UTC offset, so the server turns local wall time into
 * an instant. Without JavaScript the offset stays 0 (UTC) and an empty time means "now".
 */
import { useEffect, useState } from 'react';

export function TzOffset() {
  const [off, setOff] = useState('0');
  useEffect(() => setOff(String(new Date().getTimezoneOffset())), []);
  return <input type="hidden" name="tzOffset" value={off} />;
}
