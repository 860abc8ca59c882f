import { useEffect, useState } from 'react';
import { onThemeChange, readThemePreference, setThemePreference, type ThemePreference } from './theme';

export function ThemeSwitch() {
  const [preference, setPreference] = useState<ThemePreference>(readThemePreference);
  useEffect(() => onThemeChange(() => setPreference(readThemePreference())), []);
  return (
    <label className="theme-switch">
      <span className="visually-hidden">Theme</span>
      <select
        className="input"
        aria-label="Theme"
        value={preference}
        onChange={(event) => setThemePreference(event.target.value as ThemePreference)}
      >
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
