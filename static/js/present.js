// Projector view: one agenda item at a time; ←/→ (or the buttons) move between them.
(function () {
  "use strict";
  function start() {
    var slides = Array.prototype.slice.call(document.querySelectorAll(".slide"));
    var count = document.querySelector("[data-present-count]");
    if (!slides.length) return;
    document.body.classList.add("present-js");
    var current = 0;
    var fromHash = /^#slide-(\d+)$/.exec(window.location.hash);
    if (fromHash) current = Math.min(Math.max(parseInt(fromHash[1], 10) - 1, 0), slides.length - 1);
    function show(index) {
      current = Math.min(Math.max(index, 0), slides.length - 1);
      slides.forEach(function (slide, i) { slide.hidden = i !== current; });
      window.scrollTo(0, 0);
      if (count) count.textContent = (current + 1) + " / " + slides.length;
      if (window.history.replaceState) window.history.replaceState(null, "", "#slide-" + (current + 1));
    }
    document.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight" || event.key === "PageDown" || event.key === " ") {
        event.preventDefault();
        show(current + 1);
      } else if (event.key === "ArrowLeft" || event.key === "PageUp") {
        event.preventDefault();
        show(current - 1);
      } else if (event.key === "Home") {
        show(0);
      } else if (event.key === "End") {
        show(slides.length - 1);
      }
    });
    var prev = document.querySelector("[data-present-prev]");
    var next = document.querySelector("[data-present-next]");
    if (prev) prev.addEventListener("click", function () { show(current - 1); });
    if (next) next.addEventListener("click", function () { show(current + 1); });
    show(current);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
