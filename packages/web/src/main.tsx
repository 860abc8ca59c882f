import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/app';
import { applyTheme, readThemePreference } from './app/theme';
import './app/theme.css';

// Before the first render, so a dark-theme user never sees a light flash.
applyTheme(readThemePreference());

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
