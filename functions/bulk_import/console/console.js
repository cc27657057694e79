// The import console: calls the public API with the key typed into the page, and shows what it answers.
// Every value from the API or a file is put on the page as text (textContent), never as HTML.
"use strict";

(function () {
  const KEY_ITEM = "bulkImport.apiKey";
  const FINAL = ["DONE", "FAILED", "CANCELLED"];
  const ERRORS_PAGE = 20;
  const RECENT = 10;
  const COUNT_ORDER = ["total", "valid", "invalid", "succeeded", "failed", "skipped", "cancelled"];
  const base = document.body.dataset.apiBase || "";

  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $("import-form"), key: $("api-key"), kind: $("kind"), file: $("file"), fileName: $("file-name"),
    drop: $("drop-zone"), dryRun: $("dry-run"), start: $("start-button"), importId: $("import-id"),
    progress: $("progress"), status: $("status"), phase: $("phase"), message: $("message"),
    counts: $("counts"), cancel: $("cancel-button"), retry: $("retry-button"), errorsLink: $("errors-link"),
    failed: document.querySelector("#failed-rows tbody"), failedEmpty: $("failed-empty"),
    prev: $("errors-prev"), next: $("errors-next"),
    recent: document.querySelector("#recent-imports tbody"), recentMessage: $("recent-message"),
    refresh: $("recent-refresh"),
  };
  let chosenFile = null;
  let current = null; // the import shown: {id, view}
  let pollTimer = null;
  let cursors = [null]; // the cursor of each errors page seen; the last one is the page shown
  let nextCursor = null;

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // -- the key: in this tab's session storage only --------------------------------------------------
  ui.key.value = sessionStorage.getItem(KEY_ITEM) || "";
  ui.key.addEventListener("input", () => {
    if (ui.key.value) sessionStorage.setItem(KEY_ITEM, ui.key.value);
    else sessionStorage.removeItem(KEY_ITEM);
  });
  ui.key.addEventListener("change", () => loadRecent());

  // -- calls of the API ------------------------------------------------------------------------------
  function explain(status, body) {
    const said = body && typeof body.message === "string" ? body.message : "";
    if (status === 401) return "The API does not know this key (401): check the key.";
    if (status === 403) return "This key is not allowed to do this (403)" + (said ? ": " + said : ".");
    return said ? said + " (" + status + ")" : "The API answered " + status + ".";
  }

  async function api(method, path, body) {
    const key = ui.key.value.trim();
    if (!/^[\x20-\x7e]+$/.test(key)) throw new ApiError(0, "This key holds characters no API key has: check it.");
    const headers = { "X-API-Key": key, Accept: "application/json" };
    const init = { method: method, headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(base + path, init);
    } catch (err) {
      throw new ApiError(0, "The API cannot be reached: " + err.message);
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch (err) {
      answer = null;
    }
    if (!response.ok) throw new ApiError(response.status, explain(response.status, answer));
    return answer;
  }

  function importPath(id, tail) {
    return "/v1/imports/" + encodeURIComponent(id) + (tail || "");
  }

  // -- the file: input or drop zone ------------------------------------------------------------------
  function choose(file) {
    chosenFile = file || null;
    ui.fileName.textContent = chosenFile ? chosenFile.name + " (" + chosenFile.size.toLocaleString() + " bytes)" : "";
  }
  ui.file.addEventListener("change", () => choose(ui.file.files[0]));
  ["dragenter", "dragover"].forEach((name) =>
    ui.drop.addEventListener(name, (event) => {
      event.preventDefault();
      ui.drop.classList.add("over");
    })
  );
  ["dragleave", "drop"].forEach((name) =>
    ui.drop.addEventListener(name, (event) => {
      event.preventDefault();
      ui.drop.classList.remove("over");
    })
  );
  ui.drop.addEventListener("drop", (event) => {
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) choose(files[0]);
  });

  // -- the kind and its options ----------------------------------------------------------------------
  function showOptions() {
    document.querySelectorAll(".kind-options").forEach((set) => {
      set.hidden = set.dataset.kind !== ui.kind.value;
    });
  }
  ui.kind.addEventListener("change", showOptions);
  showOptions();

  function chosenOptions() {
    const options = {};
    const set = document.querySelector('.kind-options[data-kind="' + CSS.escape(ui.kind.value) + '"]');
    if (!set) return options;
    set.querySelectorAll("[data-option]").forEach((input) => {
      if (input.type === "checkbox") {
        if (input.checked) options[input.dataset.option] = "true";
      } else if (input.value.trim()) {
        options[input.dataset.option] = input.value.trim();
      }
    });
    return options;
  }

  // -- showing an import -----------------------------------------------------------------------------
  function say(text) {
    ui.message.textContent = text || "";
  }

  function countsLine(counts) {
    if (!counts) return "";
    return COUNT_ORDER.filter((name) => name in counts)
      .map((name) => name + " " + Number(counts[name]).toLocaleString())
      .join(" · ");
  }

  function safeLink(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (err) {
      return null;
    }
  }

  function showStatus(status, phase) {
    ui.status.textContent = status;
    ui.status.className = "status-" + status;
    ui.phase.textContent = phase || "";
  }

  function showView(view) {
    const counts = view.counts || {};
    const total = Number(counts.total || 0);
    const done = ["valid", "invalid", "skipped", "cancelled"].reduce((sum, n) => sum + Number(counts[n] || 0), 0);
    const final = FINAL.includes(view.status);
    ui.importId.textContent = view.importId || "";
    ui.progress.max = total || 1;
    ui.progress.value = final ? total || 1 : Math.min(done, total);
    const rows = total ? Math.min(done, total).toLocaleString() + " of " + total.toLocaleString() + " rows" : "";
    showStatus(view.status, final ? (view.dryRun ? "dry run: nothing was stored" : "") : "importing " + rows);
    ui.counts.textContent = countsLine(counts);
    if (view.error) say(view.error);
    ui.cancel.hidden = final;
    ui.retry.hidden = !(final && Number(counts.failed || 0) > 0 && !view.dryRun);
    const link = safeLink((view.files || {}).errors || "");
    ui.errorsLink.hidden = !link;
    if (link) {
      ui.errorsLink.href = link;
      ui.errorsLink.setAttribute("download", "errors.csv");
    } else {
      ui.errorsLink.removeAttribute("href");
    }
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function reference(error) {
    return Object.keys(error)
      .filter((k) => !["index", "field", "message"].includes(k))
      .map((k) => k + "=" + error[k])
      .join(" ");
  }

  async function showErrors(cursor) {
    if (!current) return;
    const query = "?limit=" + ERRORS_PAGE + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    const page = await api("GET", importPath(current.id, "/errors" + query));
    const rows = new Map();
    (page.errors || []).forEach((error) => {
      const entry = rows.get(error.index) || { reference: reference(error), messages: [] };
      entry.messages.push(String(error.message));
      rows.set(error.index, entry);
    });
    ui.failed.replaceChildren();
    rows.forEach((entry, index) => {
      const tr = document.createElement("tr");
      cell(tr, String(index));
      cell(tr, entry.reference);
      cell(tr, entry.messages.join(" | "));
      ui.failed.appendChild(tr);
    });
    ui.failedEmpty.hidden = rows.size > 0;
    nextCursor = page.nextCursor || null;
    ui.next.disabled = !nextCursor;
    ui.prev.disabled = cursors.length <= 1;
  }

  ui.next.addEventListener("click", () => {
    if (!nextCursor) return;
    cursors.push(nextCursor);
    showErrors(nextCursor).catch((err) => say(err.message));
  });
  ui.prev.addEventListener("click", () => {
    if (cursors.length <= 1) return;
    cursors.pop();
    showErrors(cursors[cursors.length - 1]).catch((err) => say(err.message));
  });

  // -- following an import: polls with a growing delay -------------------------------------------------
  function follow(id) {
    clearTimeout(pollTimer);
    current = { id: id, view: null };
    cursors = [null];
    ui.failed.replaceChildren();
    ui.failedEmpty.hidden = false;
    let delay = 250;
    let seen = "";
    const poll = async () => {
      if (!current || current.id !== id) return;
      let view;
      try {
        view = await api("GET", importPath(id));
      } catch (err) {
        say(err.message);
        pollTimer = setTimeout(poll, 3000);
        return;
      }
      current.view = view;
      showView(view);
      if (FINAL.includes(view.status)) {
        ui.start.disabled = false;
        await showErrors(null).catch((err) => say(err.message));
        loadRecent();
        return;
      }
      const now = JSON.stringify(view.counts || {}) + view.status;
      delay = now === seen ? Math.min(delay * 1.5, 3000) : 250;
      seen = now;
      pollTimer = setTimeout(poll, delay);
    };
    return poll();
  }

  // -- uploading: the presigned PUT, with its progress ---------------------------------------------------
  function upload(url, file) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("PUT", url);
      request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      request.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        ui.progress.max = event.total || 1;
        ui.progress.value = event.loaded;
        showStatus("UPLOADING", Math.round((100 * event.loaded) / (event.total || 1)) + "% of the file sent");
      });
      request.addEventListener("load", () =>
        request.status < 300 ? resolve() : reject(new Error("The upload was refused (" + request.status + ")."))
      );
      request.addEventListener("error", () => reject(new Error("The file could not be uploaded.")));
      request.send(file);
    });
  }

  ui.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("");
    if (!ui.key.value.trim()) return say("Type an API key first.");
    if (!chosenFile) return say("Choose or drop a file first.");
    ui.start.disabled = true;
    clearTimeout(pollTimer);
    current = null;
    try {
      const body = { kind: ui.kind.value, filename: chosenFile.name, options: chosenOptions() };
      if (ui.dryRun.checked) body.dryRun = true;
      const created = await api("POST", "/v1/imports/uploads", body);
      ui.importId.textContent = created.importId;
      ui.counts.textContent = "";
      ui.errorsLink.hidden = true;
      ui.retry.hidden = true;
      ui.cancel.hidden = false;
      current = { id: created.importId, view: null };
      await upload(created.uploadUrl, chosenFile);
      showStatus("QUEUED", "file uploaded");
      await follow(created.importId);
    } catch (err) {
      say(err.message);
      ui.start.disabled = false;
    }
  });

  ui.cancel.addEventListener("click", async () => {
    if (!current) return;
    try {
      showView(await api("POST", importPath(current.id, "/cancel")));
      await follow(current.id);
    } catch (err) {
      say(err.message);
    }
  });

  ui.retry.addEventListener("click", async () => {
    if (!current) return;
    try {
      const retried = await api("POST", importPath(current.id, "/retry"));
      say("");
      await follow(retried.importId);
    } catch (err) {
      say(err.message);
    }
  });

  // -- recent imports ---------------------------------------------------------------------------------
  async function loadRecent() {
    if (!ui.key.value.trim()) {
      ui.recentMessage.textContent = "Type an API key to see the recent imports.";
      return;
    }
    try {
      const page = await api("GET", "/v1/imports?limit=" + RECENT);
      ui.recent.replaceChildren();
      (page.imports || []).forEach((view) => {
        const tr = document.createElement("tr");
        const open = document.createElement("button");
        open.type = "button";
        open.textContent = view.importId;
        open.addEventListener("click", () => {
          say("");
          follow(view.importId);
        });
        cell(tr, "").appendChild(open);
        cell(tr, view.kind);
        cell(tr, view.status);
        cell(tr, countsLine(view.counts));
        cell(tr, view.createdAt || "");
        ui.recent.appendChild(tr);
      });
      ui.recentMessage.textContent = (page.imports || []).length ? "" : "No import yet.";
    } catch (err) {
      ui.recentMessage.textContent = err.message;
    }
  }
  ui.refresh.addEventListener("click", loadRecent);
  loadRecent();
})();
