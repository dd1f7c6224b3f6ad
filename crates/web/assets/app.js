// Termin's progressive enhancement. Pages work without it; it only adds comfort.
// Loaded from the same origin (CSP script-src 'self'); no inline script anywhere.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the first invalid field so keyboard and screen-reader users land on it.
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();

  // Live password rules: tick each rule as it is met. The server checks again (and also
  // against the list of common passwords, which is not sent to the browser).
  for (const list of document.querySelectorAll("ul.rules[data-for]")) {
    const input = document.getElementById(list.dataset.for);
    if (!input) continue;
    const tests = {
      length: (pw, li) => [...pw.normalize("NFKC")].length >= Number(li.dataset.min || 8),
      upper: (pw) => /\p{Lu}/u.test(pw),
      lower: (pw) => /\p{Ll}/u.test(pw),
      digit: (pw) => /[0-9]/.test(pw),
      special: (pw) => /[^\p{L}\p{N}\s]/u.test(pw),
    };
    const update = () => {
      for (const li of list.querySelectorAll("li[data-rule]")) {
        const met = tests[li.dataset.rule]?.(input.value, li) ?? false;
        li.classList.toggle("met", met);
      }
    };
    input.addEventListener("input", update);
    update();
  }
});
