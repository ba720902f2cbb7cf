// Small glue for htmx: show a message when a partial request fails instead of failing silently.
document.addEventListener("htmx:responseError", function (event) {
  var flashes = document.getElementById("flashes");
  if (!flashes) return;
  var p = document.createElement("p");
  p.className = "flash flash-error";
  p.setAttribute("role", "alert");
  var status = event.detail.xhr.status;
  p.textContent = status === 403 ? "Permission denied (403)." : "The request failed (" + status + "). Please try again.";
  flashes.appendChild(p);
});

// Product editor: a value typed in the SKU table's "fill every row" line is copied into every row.
document.addEventListener("change", function (event) {
  var source = event.target.closest("[data-fill]");
  if (!source) return;
  var table = source.closest("table");
  var field = source.getAttribute("data-fill");
  table.querySelectorAll("tbody tr:not(.row-error-messages)").forEach(function (row, i) {
    if (field === "code-prefix") {
      var code = row.querySelector('input[name$="-code"]');
      if (code && !code.value) code.value = source.value + "-" + (i + 1);
    } else {
      var input = row.querySelector('input[name$="-' + field + '"]');
      if (input) input.value = source.value;
    }
  });
});
