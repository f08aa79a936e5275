// Live refresh: every data-refresh seconds, fetch the page's <main> alone and swap it in, keeping
// the scroll position; paused while the tab is hidden. Served by kt-jira itself (no CDN).
(function () {
  "use strict";
  var main = document.getElementById("content");
  if (!main) { return; }
  var every = parseInt(main.getAttribute("data-refresh") || "30", 10) * 1000;
  var stamp = document.getElementById("updated");
  function refresh() {
    if (document.hidden) { return; }
    var url = "/dashboard/fragment" + window.location.search;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        main.innerHTML = html;
        if (stamp) { stamp.textContent = "Updated " + new Date().toISOString().slice(0, 19).replace("T", " ") + " UTC"; }
      })
      .catch(function () {
        if (stamp) { stamp.textContent = "Could not refresh; showing the last numbers"; }
      });
  }
  window.ktJiraRefresh = refresh;
  window.setInterval(refresh, every);
  var select = document.getElementById("range");
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }
})();
