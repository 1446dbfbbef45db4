// The grid leader's phone (issue 18): after a screen is chosen from the sidebar's menu,
// the sidebar closes, as it would in any phone app, instead of covering the new screen.
// Added once per page by app.py (st.html); our own constant code, no user text.
(function () {
  if (window.sibaiPhoneNav) return;
  window.sibaiPhoneNav = true;
  document.addEventListener(
    "click",
    function (event) {
      if (window.innerWidth > 640) return;
      if (!event.target.closest('[data-testid="stSidebarNav"] a')) return;
      var close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) window.setTimeout(function () { close.click(); }, 0);
    },
    true
  );
})();
