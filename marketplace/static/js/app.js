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
