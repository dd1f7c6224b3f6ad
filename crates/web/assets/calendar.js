// The practice calendar as a time grid: a column per chosen practitioner (per day in the
// week view), opening hours and absences shaded, the current time as a line. An empty slot
// opens the booking dialog, an appointment its edit dialog; appointments move by drag and
// drop or by the arrow keys. Everything goes through the JSON API; results and errors are
// announced in the page's live region or shown in the dialog. Without this script the page
// keeps its server-rendered lists. Times are the practice's, whatever zone the device is in.
"use strict";

(() => {
  const root = document.getElementById("calendar");
  const grid = document.getElementById("cal-grid");
  if (!root || !grid) return;

  const cfg = {
    api: root.dataset.api,
    slug: root.dataset.slug,
    zone: root.dataset.zone,
    lang: root.dataset.lang,
    csrf: root.dataset.csrf,
    view: root.dataset.view,
    days: root.dataset.days.split(",").filter(Boolean),
    chosen: root.dataset.practitioners.split(",").filter(Boolean),
    mayManage: root.dataset.mayManage === "true",
  };
  const PX = 1.2; // pixels per minute
  const KEY_STEP = 15;
  const DRAG_SNAP = 5;
  const CLICK_SNAP = 15;
  const DAY = 1440;
  const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

  const byId = (id) => document.getElementById(id);
  const capital = (w) => w.charAt(0).toUpperCase() + w.slice(1);
  const text = (key) => root.dataset["t" + capital(key)] || key;
  const statusText = (s) => text("status" + s.split("_").map(capital).join(""));

  function el(tag, cls, content) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  // Civil dates as day numbers (days since 1970-01-01), free of any time zone.
  const dayNumber = (iso) =>
    Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86400000;
  const civil = (iso) => new Date(dayNumber(iso) * 86400000);
  const weekdayIndex = (iso) => (civil(iso).getUTCDay() + 6) % 7;
  const pad = (n) => String(n).padStart(2, "0");
  const hhmm = (minute) => pad(Math.floor(minute / 60)) + ":" + pad(minute % 60);
  const minuteOf = (hm) => +hm.slice(0, 2) * 60 + +hm.slice(3, 5);
  const wallClock = (date, minute) => date + "T" + hhmm(minute);

  // Instants shown in the practice's zone.
  const partsFormat = new Intl.DateTimeFormat("en-CA", {
    timeZone: cfg.zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  function local(instant) {
    const p = {};
    for (const part of partsFormat.formatToParts(new Date(instant))) p[part.type] = part.value;
    return { date: `${p.year}-${p.month}-${p.day}`, minute: (+p.hour % 24) * 60 + +p.minute };
  }
  const timeFormat = new Intl.DateTimeFormat(cfg.lang, {
    timeZone: cfg.zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const timeText = (instant) => timeFormat.format(new Date(instant));
  const shortDay = new Intl.DateTimeFormat(cfg.lang, {
    timeZone: "UTC", weekday: "short", day: "2-digit", month: "2-digit",
  });
  const longDay = new Intl.DateTimeFormat(cfg.lang, {
    timeZone: "UTC", weekday: "long", day: "numeric", month: "long", year: "numeric",
  });
  const birthFormat = new Intl.DateTimeFormat(cfg.lang, { timeZone: "UTC", dateStyle: "medium" });
  const dayLabel = (iso, long) => (long ? longDay : shortDay).format(civil(iso));

  const state = {
    practitioners: new Map(),
    order: [], // the chosen practitioners' ids, in column order
    visitTypes: new Map(),
    absences: [],
    appointments: new Map(),
    columns: [],
    first: 0,
    last: DAY,
  };

  // ---- The API ----------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, fields) {
      super(message);
      this.status = status;
      this.code = code;
      this.fields = fields || {};
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json", "X-Termin-Org": cfg.slug };
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRF-Token"] = cfg.csrf;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(cfg.api + path, init);
    } catch {
      throw new ApiError(0, "network", text("failed"));
    }
    const raw = await response.text();
    let data = {};
    try {
      data = raw ? JSON.parse(raw) : {};
    } catch {
      data = {};
    }
    if (response.status === 401) window.location.assign("/login");
    if (!response.ok) {
      throw new ApiError(response.status, data.error || "", data.message || response.statusText, data.fields);
    }
    return data;
  }

  const KNOWN = {
    slot_taken: "slotTaken",
    outside_opening_hours: "outsideHours",
    appointment_cancelled: "isCancelled",
    validation: "invalid",
    forbidden: "forbidden",
    not_found: "notFound",
  };
  const describe = (err) => (KNOWN[err.code] ? text(KNOWN[err.code]) : err.message || text("failed"));

  const live = byId("cal-live");
  function announce(message, bad) {
    live.classList.toggle("bad", !!bad);
    live.textContent = "";
    // A fresh text node, so that the same message is announced again.
    setTimeout(() => { live.textContent = message; }, 30);
  }

  // ---- Opening hours, absences, layout ----------------------------------------------

  function openOn(p, iso) {
    const weekday = WEEKDAYS[weekdayIndex(iso)];
    const rules = (p && p.opening_hours && p.opening_hours.weekly) || [];
    return rules
      .filter((r) => {
        if (r.weekday !== weekday) return false;
        if (r.valid_from && iso < r.valid_from) return false;
        if (r.valid_until && iso > r.valid_until) return false;
        if ((r.every_weeks || 1) === 2 && r.valid_from) {
          // Weeks run Monday to Sunday; valid_from's week is an "on" week.
          const days = dayNumber(iso) - dayNumber(r.valid_from) + weekdayIndex(r.valid_from);
          return Math.floor(days / 7) % 2 === 0;
        }
        return true;
      })
      .map((r) => [minuteOf(r.start), minuteOf(r.end)]);
  }

  function absentOn(pid, iso) {
    const n = dayNumber(iso);
    const out = [];
    for (const a of state.absences) {
      if (!a.practitioner_ids.includes(pid)) continue;
      const first = dayNumber(a.start_date);
      const length = dayNumber(a.end_date) - first;
      const lastStart = a.repeat_weekly_until ? dayNumber(a.repeat_weekly_until) : first;
      const skip = Math.max(0, Math.floor((n - length - first) / 7));
      for (let s = first + skip * 7; s <= lastStart && s <= n; s += 7) {
        const e = s + length;
        if (n > e) continue;
        const from = n === s && a.start_time ? minuteOf(a.start_time) : 0;
        const to = n === e && a.end_time ? minuteOf(a.end_time) : DAY;
        if (to > from) out.push([from, to, a.reason || ""]);
      }
    }
    return out;
  }

  // Where each appointment sits, in the practice's zone.
  function placed() {
    const byColumn = new Map();
    for (const a of state.appointments.values()) {
      const start = local(a.start);
      const end = local(a.end);
      const key = start.date + "|" + a.practitioner_id;
      if (!byColumn.has(key)) byColumn.set(key, []);
      byColumn.get(key).push({ a, date: start.date, start: start.minute, end: end.date === start.date ? end.minute : DAY });
    }
    return byColumn;
  }

  function columnsFor(byColumn) {
    const columns = [];
    for (const date of cfg.days) {
      const weekend = weekdayIndex(date) >= 5;
      const shown = cfg.view === "day" || !weekend || state.order.some(
        (pid) => openOn(state.practitioners.get(pid), date).length || byColumn.has(date + "|" + pid));
      if (!shown) continue;
      state.order.forEach((pid, i) => columns.push({ date, pid, dayStart: i === 0 }));
    }
    return columns;
  }

  function timeRange(columns, byColumn) {
    let first = 8 * 60;
    let last = 18 * 60;
    for (const { date, pid } of columns) {
      for (const [s, e] of openOn(state.practitioners.get(pid), date)) {
        first = Math.min(first, s);
        last = Math.max(last, e);
      }
      for (const item of byColumn.get(date + "|" + pid) || []) {
        first = Math.min(first, item.start);
        last = Math.max(last, item.end);
      }
    }
    return [Math.max(0, Math.floor(first / 60) * 60 - 60), Math.min(DAY, Math.ceil(last / 60) * 60 + 60)];
  }

  // Overlapping appointments (overbooking) share the column side by side.
  function lanes(items) {
    items.sort((x, y) => x.start - y.start || x.end - y.end);
    let cluster = [];
    let clusterEnd = -1;
    const flush = () => {
      const count = Math.max(...cluster.map((i) => i.lane)) + 1;
      for (const i of cluster) i.lanes = count;
      cluster = [];
      clusterEnd = -1;
    };
    for (const item of items) {
      if (cluster.length && item.start >= clusterEnd) flush();
      const used = new Set(cluster.filter((c) => c.end > item.start).map((c) => c.lane));
      let lane = 0;
      while (used.has(lane)) lane += 1;
      item.lane = lane;
      cluster.push(item);
      clusterEnd = Math.max(clusterEnd, item.end);
    }
    if (cluster.length) flush();
    return items;
  }

  function place(node, start, end) {
    const top = Math.max(start, state.first);
    const bottom = Math.min(end, state.last);
    node.style.top = (top - state.first) * PX + "px";
    node.style.height = Math.max(bottom - top, 10) * PX + "px";
  }

  const patientName = (p) => `${p.given_name} ${p.family_name}`;
  const nameOf = (pid) => (state.practitioners.get(pid) || {}).name || "";

  function describeAppointment(a) {
    const vt = state.visitTypes.get(a.visit_type_id);
    return [
      `${dayLabel(local(a.start).date, true)} ${timeText(a.start)}–${timeText(a.end)}`,
      patientName(a.patient), vt ? vt.name : "", nameOf(a.practitioner_id), statusText(a.status),
    ].filter(Boolean).join(", ");
  }

  function appointmentButton(item) {
    const { a } = item;
    const p = state.practitioners.get(a.practitioner_id);
    const vt = state.visitTypes.get(a.visit_type_id);
    const b = el("button", "cal-appt status-" + a.status);
    b.type = "button";
    b.dataset.id = a.id;
    place(b, item.start, item.end);
    b.style.left = `calc(${(item.lane / item.lanes) * 100}% + 2px)`;
    b.style.width = `calc(${100 / item.lanes}% - 4px)`;
    if (p && p.colour) b.style.borderLeftColor = p.colour;
    b.append(el("span", "cal-appt-time", `${timeText(a.start)}–${timeText(a.end)}`), " ",
      el("strong", "cal-appt-name", patientName(a.patient)));
    if (vt) b.append(" ", el("span", "cal-appt-type", vt.name));
    b.setAttribute("aria-label", describeAppointment(a));
    return b;
  }

  function column(col, index, rows, byColumn) {
    const p = state.practitioners.get(col.pid);
    const node = el("div", "cal-col" + (col.dayStart && index > 0 ? " day-start" : ""));
    node.dataset.date = col.date;
    node.dataset.practitioner = col.pid;
    node.dataset.index = index;
    node.style.gridRow = String(rows + 1);
    node.style.gridColumn = String(index + 2);
    node.style.height = (state.last - state.first) * PX + "px";
    node.setAttribute("role", "group");
    node.setAttribute("aria-label", `${dayLabel(col.date, true)}, ${p.name}`);
    for (const [s, e] of openOn(p, col.date)) {
      const band = el("div", "cal-open");
      place(band, s, e);
      node.append(band);
    }
    for (const [s, e, reason] of absentOn(col.pid, col.date)) {
      const band = el("div", "cal-absent", text("absent") + (reason ? ": " + reason : ""));
      place(band, s, e);
      node.append(band);
    }
    for (const item of lanes(byColumn.get(col.date + "|" + col.pid) || [])) {
      node.append(appointmentButton(item));
    }
    return node;
  }

  function render(focusId) {
    const byColumn = placed();
    const columns = columnsFor(byColumn);
    [state.first, state.last] = timeRange(columns, byColumn);
    state.columns = columns;
    const week = cfg.view === "week";
    const rows = week ? 2 : 1;
    const today = local(Date.now()).date;
    grid.dataset.firstMinute = state.first;
    grid.dataset.minutePx = PX;
    grid.style.setProperty("--hour", 60 * PX + "px");
    grid.style.gridTemplateColumns = `4rem repeat(${columns.length}, minmax(7rem, 1fr))`;

    const frag = document.createDocumentFragment();
    const corner = el("div", "cal-head cal-corner", text("time"));
    corner.style.gridRow = `1 / span ${rows}`;
    corner.style.gridColumn = "1";
    frag.append(corner);
    if (week) {
      let at = 2;
      for (const date of [...new Set(columns.map((c) => c.date))]) {
        const head = el("div", "cal-head cal-day" + (date === today ? " today" : ""), dayLabel(date));
        head.style.gridRow = "1";
        head.style.gridColumn = `${at} / span ${state.order.length}`;
        at += state.order.length;
        frag.append(head);
      }
    }
    columns.forEach((col, i) => {
      const p = state.practitioners.get(col.pid);
      const head = el("div", "cal-head cal-who" + (week ? " second" : ""), p.name);
      head.style.gridRow = String(rows);
      head.style.gridColumn = String(i + 2);
      if (p.colour) head.style.borderBottomColor = p.colour;
      frag.append(head);
    });
    const axis = el("div", "cal-axis");
    axis.style.gridRow = String(rows + 1);
    axis.style.gridColumn = "1";
    axis.style.height = (state.last - state.first) * PX + "px";
    for (let m = Math.ceil(state.first / 60) * 60; m < state.last; m += 60) {
      const label = el("span", "", hhmm(m));
      label.style.top = (m - state.first) * PX + "px";
      axis.append(label);
    }
    frag.append(axis);
    columns.forEach((col, i) => frag.append(column(col, i, rows, byColumn)));
    grid.replaceChildren(frag);
    drawNow();
    if (focusId) {
      const target = grid.querySelector(`.cal-appt[data-id="${CSS.escape(focusId)}"]`);
      (target || grid).focus();
    }
  }

  function drawNow() {
    for (const old of grid.querySelectorAll(".cal-now")) old.remove();
    const now = local(Date.now());
    if (now.minute < state.first || now.minute > state.last) return;
    for (const col of grid.querySelectorAll(`.cal-col[data-date="${now.date}"]`)) {
      const line = el("div", "cal-now");
      line.style.top = (now.minute - state.first) * PX + "px";
      line.title = `${text("now")} ${hhmm(now.minute)}`;
      col.append(line);
    }
  }

  // ---- Moving -------------------------------------------------------------------------

  const lengthOf = (a) => Math.round((new Date(a.end) - new Date(a.start)) / 60000);

  async function moveAppointment(a, target) {
    const now = local(a.start);
    const body = {};
    if (target.date !== now.date || target.minute !== now.minute) body.start = wallClock(target.date, target.minute);
    if (target.pid !== a.practitioner_id) body.practitioner_id = target.pid;
    if (!Object.keys(body).length) {
      render(a.id);
      return;
    }
    try {
      const moved = await api("PATCH", `/appointments/${encodeURIComponent(a.id)}`, body);
      state.appointments.set(moved.id, moved);
      render(moved.id);
      announce(`${text("moved")} ${describeAppointment(moved)}`);
    } catch (err) {
      render(a.id);
      announce(describe(err) + fieldMessages(err), true);
    }
  }

  let suppressClick = false;
  let drag = null;

  grid.addEventListener("pointerdown", (e) => {
    const appt = e.target.closest(".cal-appt");
    if (!appt || !cfg.mayManage || e.button !== 0) return;
    const a = state.appointments.get(appt.dataset.id);
    if (!a) return;
    drag = { appt, a, x: e.clientX, y: e.clientY, id: e.pointerId, start: local(a.start).minute, length: lengthOf(a), moved: false, ghost: null, target: null };
  });

  grid.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const dy = e.clientY - drag.y;
    if (!drag.moved) {
      if (Math.hypot(e.clientX - drag.x, dy) < 4) return;
      // Captured only once it is a drag, so that a plain click still reaches the button.
      drag.moved = true;
      drag.appt.classList.add("dragging");
      grid.setPointerCapture(e.pointerId);
    }
    const under = document.elementFromPoint(e.clientX, e.clientY);
    const col = under && under.closest(".cal-col");
    if (!col) return;
    const raw = drag.start + Math.round(dy / PX / DRAG_SNAP) * DRAG_SNAP;
    const minute = Math.max(0, Math.min(raw, DAY - drag.length));
    if (!drag.ghost) drag.ghost = el("div", "cal-ghost");
    if (drag.ghost.parentNode !== col) col.append(drag.ghost);
    place(drag.ghost, minute, minute + drag.length);
    drag.ghost.textContent = hhmm(minute);
    drag.target = { date: col.dataset.date, pid: col.dataset.practitioner, minute };
  });

  function endDrag(e, commit) {
    if (!drag || e.pointerId !== drag.id) return;
    const d = drag;
    drag = null;
    if (grid.hasPointerCapture(e.pointerId)) grid.releasePointerCapture(e.pointerId);
    if (d.ghost) d.ghost.remove();
    d.appt.classList.remove("dragging");
    if (!d.moved) return;
    suppressClick = true;
    setTimeout(() => { suppressClick = false; }, 0);
    if (commit && d.target) moveAppointment(d.a, d.target);
  }
  grid.addEventListener("pointerup", (e) => endDrag(e, true));
  grid.addEventListener("pointercancel", (e) => endDrag(e, false));

  // Arrow keys move the focused appointment at once on screen; it is saved when the keys
  // rest, so that four presses are one change.
  let pending = null;
  function commitPending() {
    if (!pending) return;
    const { a, target, timer } = pending;
    clearTimeout(timer);
    pending = null;
    moveAppointment(a, target);
  }

  const ARROWS = { ArrowUp: [0, -KEY_STEP], ArrowDown: [0, KEY_STEP], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
  grid.addEventListener("keydown", (e) => {
    const appt = e.target.closest(".cal-appt");
    const step = ARROWS[e.key];
    if (!appt || !step || !cfg.mayManage || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    const a = state.appointments.get(appt.dataset.id);
    if (!a) return;
    if (pending && pending.a.id !== a.id) commitPending();
    const from = local(a.start);
    let target = pending ? pending.target : { date: from.date, pid: a.practitioner_id, minute: from.minute };
    let index = state.columns.findIndex((c) => c.date === target.date && c.pid === target.pid);
    if (step[0]) {
      index += step[0];
      if (index < 0 || index >= state.columns.length) return;
      target = { ...target, date: state.columns[index].date, pid: state.columns[index].pid };
    }
    if (step[1]) {
      const minute = target.minute + step[1];
      if (minute < 0 || minute + lengthOf(a) > DAY) return;
      target = { ...target, minute };
    }
    const col = grid.querySelector(`.cal-col[data-index="${index}"]`);
    if (col && appt.parentNode !== col) col.append(appt);
    place(appt, target.minute, target.minute + lengthOf(a));
    appt.style.left = "2px";
    appt.style.width = "calc(100% - 4px)";
    appt.focus();
    announce(`${text("moving")} ${dayLabel(target.date, true)} ${hhmm(target.minute)}, ${nameOf(target.pid)}`);
    if (pending) clearTimeout(pending.timer);
    pending = { a, target, timer: setTimeout(commitPending, 700) };
  });

  grid.addEventListener("click", (e) => {
    if (suppressClick) {
      suppressClick = false;
      return;
    }
    const appt = e.target.closest(".cal-appt");
    if (appt) {
      openEdit(appt.dataset.id);
      return;
    }
    const col = e.target.closest(".cal-col");
    if (!col || !cfg.mayManage) return;
    const y = e.clientY - col.getBoundingClientRect().top;
    const minute = state.first + Math.floor(y / PX / CLICK_SNAP) * CLICK_SNAP;
    openCreate(col.dataset.practitioner, col.dataset.date, Math.max(0, Math.min(minute, DAY - CLICK_SNAP)));
  });

  // ---- Dialogs ------------------------------------------------------------------------

  function fieldMessages(err) {
    const parts = Object.entries(err.fields || {}).map(([k, v]) => `${k}: ${v.join(", ")}`);
    return parts.length ? ` (${parts.join("; ")})` : "";
  }

  function clearErrors(dialog) {
    const box = dialog.querySelector("[data-errors]");
    box.hidden = true;
    box.replaceChildren();
    for (const field of dialog.querySelectorAll(".field.invalid")) field.classList.remove("invalid");
    for (const input of dialog.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function showErrors(dialog, summary, fields) {
    const box = dialog.querySelector("[data-errors]");
    const list = el("ul");
    for (const [name, messages] of Object.entries(fields || {})) {
      const field = dialog.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
      const label = field ? field.querySelector("label").textContent : name;
      list.append(el("li", "", `${label}: ${messages.join(", ")}`));
      if (field) {
        field.classList.add("invalid");
        const input = field.querySelector("input:not([type=hidden]), select");
        if (input) input.setAttribute("aria-invalid", "true");
      }
    }
    box.replaceChildren(el("p", "", summary));
    if (list.children.length) box.append(list);
    box.hidden = false;
    announce(summary, true);
    const invalid = dialog.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  }
  const showError = (dialog, err) => showErrors(dialog, describe(err), err.fields);

  function fillPractitioners(select, selected) {
    select.replaceChildren(...state.order.map((id) => new Option(nameOf(id), id, false, id === selected)));
  }

  root.addEventListener("click", (e) => {
    const close = e.target.closest("[data-close]");
    if (close) close.closest("dialog").close();
  });

  // Booking.
  const createDialog = byId("cal-create");
  const createForm = createDialog.querySelector("form");
  const c = {
    practitioner: byId("cal-c-practitioner"), start: byId("cal-c-start"), q: byId("cal-c-q"),
    patient: byId("cal-c-patient"), chosen: byId("cal-c-chosen"), results: byId("cal-c-results"),
    visit: byId("cal-c-visit"),
  };

  function fillVisitTypes(pid) {
    const keep = c.visit.value;
    const offered = [...state.visitTypes.values()].filter((v) => v.active !== false
      && (!v.practitioner_ids || !v.practitioner_ids.length || v.practitioner_ids.includes(pid)));
    c.visit.replaceChildren(...offered.map((v) => new Option(`${v.name} (${v.duration_minutes} min)`, v.id)));
    if (offered.some((v) => v.id === keep)) c.visit.value = keep;
  }
  c.practitioner.addEventListener("change", () => fillVisitTypes(c.practitioner.value));

  function openCreate(pid, date, minute) {
    createForm.reset();
    clearErrors(createDialog);
    c.patient.value = "";
    c.chosen.textContent = "";
    c.results.replaceChildren();
    fillPractitioners(c.practitioner, pid);
    fillVisitTypes(pid);
    c.start.value = wallClock(date, minute);
    createDialog.showModal();
    c.q.focus();
  }

  let searchTimer = 0;
  let searchSeq = 0;
  async function search() {
    const q = c.q.value.trim();
    const seq = ++searchSeq;
    if (q.length < 2) {
      c.results.replaceChildren();
      return;
    }
    c.results.replaceChildren(el("li", "muted", text("searching")));
    try {
      const data = await api("GET", "/patients?q=" + encodeURIComponent(q));
      if (seq !== searchSeq) return;
      if (!data.patients.length) {
        c.results.replaceChildren(el("li", "muted", text("noPatients")));
        return;
      }
      c.results.replaceChildren(...data.patients.map((p) => {
        const born = p.birth_date ? ` (${birthFormat.format(civil(p.birth_date))})` : "";
        const b = el("button", "cal-option", patientName(p) + born);
        b.type = "button";
        b.dataset.id = p.id;
        const li = el("li");
        li.append(b);
        return li;
      }));
    } catch (err) {
      if (seq === searchSeq) c.results.replaceChildren(el("li", "errors", describe(err)));
    }
  }
  c.q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 250);
  });
  c.q.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    clearTimeout(searchTimer);
    search();
  });
  c.results.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-id]");
    if (!b) return;
    c.patient.value = b.dataset.id;
    c.chosen.textContent = b.textContent;
    c.results.replaceChildren();
    c.q.value = "";
    c.visit.focus();
  });

  createForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(createDialog);
    if (!c.patient.value) {
      showErrors(createDialog, text("pickPatient"), {});
      c.q.setAttribute("aria-invalid", "true");
      c.q.focus();
      return;
    }
    const button = createForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const created = await api("POST", "/appointments", {
        practitioner_id: c.practitioner.value, visit_type_id: c.visit.value,
        start: c.start.value, patient_id: c.patient.value,
      });
      state.appointments.set(created.id, created);
      createDialog.close();
      render(created.id);
      announce(`${text("created")} ${describeAppointment(created)}`);
    } catch (err) {
      showError(createDialog, err);
    } finally {
      button.disabled = false;
    }
  });

  const newButton = byId("cal-new");
  if (newButton) {
    newButton.addEventListener("click", () => {
      const today = local(Date.now()).date;
      const date = cfg.days.includes(today) ? today : cfg.days[0];
      const open = openOn(state.practitioners.get(state.order[0]), date);
      openCreate(state.order[0], date, open.length ? open[0][0] : 8 * 60);
    });
  }

  // Changing, moving and cancelling.
  const editDialog = byId("cal-edit");
  const ed = {
    summary: byId("cal-e-summary"), status: byId("cal-e-status"), start: byId("cal-e-start"),
    practitioner: byId("cal-e-practitioner"), reason: byId("cal-e-reason"),
    manage: editDialog.querySelector(".cal-manage"),
  };
  let editing = null;

  function openEdit(id) {
    commitPending();
    const a = state.appointments.get(id);
    if (!a) return;
    editing = a.id;
    clearErrors(editDialog);
    ed.summary.textContent = describeAppointment(a);
    ed.status.value = a.status;
    const start = local(a.start);
    ed.start.value = wallClock(start.date, start.minute);
    fillPractitioners(ed.practitioner, a.practitioner_id);
    ed.reason.value = "";
    ed.manage.disabled = !cfg.mayManage;
    editDialog.showModal();
    showReminders(a.id);
  }

  // Each reminder of the open appointment with its delivery state.
  async function showReminders(id) {
    const box = byId("cal-e-reminders");
    box.textContent = "";
    let list;
    try {
      list = (await api("GET", `/appointments/${encodeURIComponent(id)}/reminders`)).reminders || [];
    } catch {
      return;
    }
    if (editing !== id) return;
    const state = (r) => {
      if (r.status === "skipped") return text("reminderSkipped");
      if (r.status === "pending") return text("reminderPlanned");
      if (r.delivery === "sent") return text("reminderSent");
      if (r.delivery === "failed") return text("reminderFailed");
      return text("reminderWaiting");
    };
    const parts = list.map((r) => {
      const at = local(r.due_at);
      return `${text(r.channel === "sms" ? "channelSms" : "channelEmail")} ${wallClock(at.date, at.minute).replace("T", " ")}: ${state(r)}`;
    });
    box.textContent = `${text("reminders")}: ${parts.length ? parts.join(" · ") : text("noReminders")}`;
  }

  editDialog.addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-action]");
    if (!b || !editing) return;
    const id = editing;
    const path = `/appointments/${encodeURIComponent(id)}`;
    clearErrors(editDialog);
    b.disabled = true;
    try {
      let message;
      if (b.dataset.action === "status") {
        state.appointments.set(id, await api("PUT", path + "/status", { status: ed.status.value }));
        message = text("statusSaved");
      } else if (b.dataset.action === "move") {
        const a = state.appointments.get(id);
        const body = { start: ed.start.value };
        if (ed.practitioner.value !== a.practitioner_id) body.practitioner_id = ed.practitioner.value;
        state.appointments.set(id, await api("PATCH", path, body));
        message = text("moved");
      } else {
        const reason = ed.reason.value.trim();
        await api("DELETE", path, reason ? { reason } : {});
        state.appointments.delete(id);
        message = text("cancelled");
      }
      editing = null;
      editDialog.close();
      render(state.appointments.has(id) ? id : undefined);
      if (!state.appointments.has(id)) grid.focus();
      announce(state.appointments.has(id) ? `${message} ${describeAppointment(state.appointments.get(id))}` : message);
    } catch (err) {
      showError(editDialog, err);
    } finally {
      b.disabled = false;
    }
  });
  editDialog.addEventListener("close", () => { editing = null; });

  // ---- Start --------------------------------------------------------------------------

  async function load() {
    const range = `from=${cfg.days[0]}&to=${cfg.days[cfg.days.length - 1]}`;
    const [ps, vts, abs, aps] = await Promise.all([
      api("GET", "/practitioners"), api("GET", "/visit-types"),
      api("GET", "/absences?" + range), api("GET", "/appointments?" + range),
    ]);
    for (const p of ps.practitioners) state.practitioners.set(p.id, p);
    state.order = cfg.chosen.filter((id) => state.practitioners.has(id));
    for (const v of vts.visit_types) state.visitTypes.set(v.id, v);
    state.absences = abs.absences;
    for (const a of aps.appointments) {
      if (state.order.includes(a.practitioner_id)) state.appointments.set(a.id, a);
    }
  }

  (async () => {
    try {
      await load();
    } catch (err) {
      announce(`${text("loadFailed")} ${describe(err)}`, true);
      return;
    }
    render();
    grid.setAttribute("role", "region");
    grid.setAttribute("aria-label", text("grid"));
    grid.tabIndex = -1;
    grid.hidden = false;
    byId("cal-list").hidden = true;
    root.querySelector(".cal-tools").hidden = false;
    root.classList.add("cal-ready");
    setInterval(drawNow, 60000);
  })();
})();
