// A solve's page, kept up to date from its event stream (server-sent events) while it runs.
// Without JavaScript the page still shows the state at load time; reload to see more.
(function () {
  "use strict";
  const root = document.getElementById("job");
  if (!root || root.dataset.active !== "yes" || !window.EventSource) {
    return;
  }
  const euros = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const money = (value) => (value === null || value === undefined ? "-" : euros.format(value) + " EUR");
  const points = (value) => (value === null || value === undefined ? "-" : euros.format(value));
  const field = (name) => root.querySelector('[data-field="' + name + '"]');
  const set = (name, text) => {
    const element = field(name);
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  };

  function show(job) {
    const progress = job.progress || {};
    set("status", job.status + (job.queue_position ? " (position " + job.queue_position + " in the queue)" : ""));
    set("elapsed", (job.elapsed === null ? "-" : job.elapsed.toFixed(1) + " s") +
        " of at most " + job.options.time_limit + " s");
    set("phase", progress.phase || "-");
    set("cost", money(progress.cost));
    set("assigned", progress.assigned === null || progress.assigned === undefined ? "-" : String(progress.assigned));
    set("objective", points(progress.objective));
    set("bound", points(progress.bound));
    set("gap", progress.gap === null || progress.gap === undefined ? "-" : (100 * progress.gap).toFixed(2) + " %");
  }

  const source = new EventSource(root.dataset.events);
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      // the server refused the stream (too many open): look again every few seconds instead
      window.setTimeout(() => window.location.reload(), 3000);
    }
  });
  source.addEventListener("progress", (event) => show(JSON.parse(event.data)));
  source.addEventListener("end", (event) => {
    source.close();
    show(JSON.parse(event.data));
    window.location.reload(); // the outcome: the plan stored, or why not
  });
})();
