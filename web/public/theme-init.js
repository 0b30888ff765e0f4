// Applies the colour theme saved by the app (src/app/theme.ts) before the first paint, so a
// page in dark mode never flashes light. A file of its own: the server's CSP runs no inline
// script. Without a saved choice the CSS follows the system (prefers-color-scheme).
(function () {
  try {
    var theme = window.localStorage.getItem("sap.theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.dataset.theme = theme;
    }
  } catch {
    // Storage may be off (private mode): the system's choice applies.
  }
})();
