// Termin's progressive enhancement. Pages work without it; it only adds comfort.
// Loaded from the same origin (CSP script-src 'self'); no inline script anywhere.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the first invalid field so keyboard and screen-reader users land on it.
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
});
