// Handheld screens of the WMS, driven by a keyboard-wedge scanner (types, then Enter):
// the scan field is focused on load and after every htmx swap, [data-scan-clear] fields are emptied,
// a refused scan (a 4xx answer) is still shown, and it beeps.
(function () {
  function focusScan() {
    var field = document.querySelector("[data-scan-focus]");
    if (field) { field.focus(); if (field.select) { field.select(); } }
  }
  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx(), osc = ctx.createOscillator();
      osc.frequency.value = 220; osc.connect(ctx.destination); osc.start(); osc.stop(ctx.currentTime + 0.25);
    } catch (e) { /* no audio on this device */ }
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status >= 400 && event.detail.xhr.status < 500) {
      event.detail.shouldSwap = true; event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    document.querySelectorAll("[data-scan-clear]").forEach(function (el) { el.value = ""; });
    if (event.detail.xhr.status >= 400 && event.detail.xhr.status < 500) { beep(); }
    focusScan();
  });
  document.addEventListener("DOMContentLoaded", focusScan);
})();
