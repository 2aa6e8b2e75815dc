// rheum-cds trend app: SMART App Launch 2 (EHR launch, PKCE S256) or an open FHIR server
// (?iss=&patient=). The browser reads the patient's record and posts it to the service, which
// scores it with the engine of the cards and answers the charts (SVG + table) as HTML.
// No formula lives here. The token stays in this tab's sessionStorage.
"use strict";

(function () {
  const body = document.body;
  const LAUNCH_KEY = "rheum-cds.activity.launch";
  const SESSION_KEY = "rheum-cds.activity.session";
  const MAX_PAGES = 20;
  const statusEl = document.getElementById("status");
  const chartsEl = document.getElementById("charts");
  const detailEl = document.getElementById("point-detail");

  function msg(key, fields) {
    let text = body.dataset["msg" + key.replace(/(^|_)([a-z])/g, (m, p, c) => c.toUpperCase())] || key;
    for (const [name, value] of Object.entries(fields || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  function show(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", Boolean(isError));
  }

  function b64url(bytes) {
    let s = "";
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(n) {
    const bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    return b64url(bytes);
  }

  async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return b64url(digest);
  }

  function baseUrl(iss) {
    return iss.replace(/\/+$/, "");
  }

  function redirectUri() {
    return location.origin + location.pathname;
  }

  async function getJson(url, token) {
    const headers = { Accept: "application/fhir+json, application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch(url, { headers, credentials: "omit", cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  // --- launch ---------------------------------------------------------------------------

  async function ehrLaunch(iss, launch) {
    const config = await getJson(baseUrl(iss) + "/.well-known/smart-configuration");
    const methods = config.code_challenge_methods_supported || [];
    if (!methods.includes("S256")) throw new Error("no PKCE S256");
    if (!config.authorization_endpoint || !config.token_endpoint) throw new Error("no endpoints");
    const verifier = randomString(48);
    const state = randomString(24);
    sessionStorage.setItem(
      LAUNCH_KEY,
      JSON.stringify({
        state,
        verifier,
        iss,
        tokenEndpoint: config.token_endpoint,
        clientId: body.dataset.clientId,
        redirectUri: redirectUri(),
        lang: body.dataset.lang,
      })
    );
    const url = new URL(config.authorization_endpoint);
    const params = {
      response_type: "code",
      client_id: body.dataset.clientId,
      redirect_uri: redirectUri(),
      launch,
      scope: body.dataset.scope,
      state,
      aud: iss,
      code_challenge: await challengeOf(verifier),
      code_challenge_method: "S256",
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    location.assign(url.toString());
  }

  async function finishLaunch(code, state) {
    const saved = JSON.parse(sessionStorage.getItem(LAUNCH_KEY) || "null");
    sessionStorage.removeItem(LAUNCH_KEY);
    if (!saved || !state || saved.state !== state) {
      show(msg("error_state"), true);
      return;
    }
    const form = new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: saved.redirectUri,
      client_id: saved.clientId,
      code_verifier: saved.verifier,
    });
    const response = await fetch(saved.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: form,
      credentials: "omit",
    });
    const token = await response.json().catch(() => ({}));
    if (!response.ok || !token.access_token || !token.patient) {
      show(msg("error_auth", { reason: token.error || "HTTP " + response.status }), true);
      return;
    }
    sessionStorage.setItem(
      SESSION_KEY,
      JSON.stringify({ iss: saved.iss, patient: token.patient, token: token.access_token })
    );
    // the code is spent: load the page again in the launch's language, without it in the URL
    location.replace(redirectUri() + "?lang=" + encodeURIComponent(saved.lang || "en"));
  }

  // --- reading the record -------------------------------------------------------------------

  async function searchAll(iss, type, patient, token) {
    const base = baseUrl(iss);
    let url = base + "/" + type + "?patient=" + encodeURIComponent(patient) + "&_count=200";
    const resources = [];
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const bundle = await getJson(url, token);
      for (const entry of bundle.entry || []) {
        if (entry.resource && entry.resource.resourceType === type) resources.push(entry.resource);
      }
      const next = (bundle.link || []).find((l) => l.relation === "next");
      // the token goes to the FHIR server only: a next link elsewhere is not followed
      url = next && new URL(next.url, base).origin === new URL(base).origin ? next.url : null;
    }
    return resources;
  }

  async function load(iss, patient, token) {
    document.getElementById("server").textContent = msg("connected", { server: new URL(iss).host });
    show(msg("loading"));
    let entries;
    try {
      const patientResource = await getJson(baseUrl(iss) + "/Patient/" + encodeURIComponent(patient), token);
      const kinds = ["Observation", "Condition", "MedicationRequest"];
      const lists = await Promise.all(kinds.map((k) => searchAll(iss, k, patient, token)));
      entries = [patientResource, ...lists.flat()].map((resource) => ({ resource }));
      const name = (patientResource.name || [])[0];
      if (name) {
        const text = name.text || [...(name.given || []), name.family || ""].join(" ").trim();
        document.getElementById("patient").textContent =
          text + (patientResource.birthDate ? " · " + patientResource.birthDate : "");
      }
    } catch (err) {
      show(msg("error_fhir", { reason: err.message }), true);
      return;
    }
    show(msg("scoring"));
    const response = await fetch("api/trend?lang=" + encodeURIComponent(body.dataset.lang), {
      method: "POST",
      headers: { "Content-Type": "application/fhir+json" },
      body: JSON.stringify({ resourceType: "Bundle", type: "collection", entry: entries }),
      credentials: "same-origin",
    });
    if (!response.ok) {
      show(msg("error_scoring", { reason: "HTTP " + response.status }), true);
      return;
    }
    // the service's own escaped HTML (SVG and tables, no script)
    chartsEl.innerHTML = await response.text();
    show("");
    statusEl.hidden = true;
    body.dataset.ready = "true";
  }

  // --- point details on focus, hover or tap --------------------------------------------------

  function detail(event) {
    const target = event.target.closest ? event.target.closest("[data-detail]") : null;
    if (target) {
      detailEl.textContent = target.dataset.detail;
      for (const el of chartsEl.querySelectorAll(".selected")) el.classList.remove("selected");
      target.classList.add("selected");
    }
  }
  chartsEl.addEventListener("focusin", detail);
  chartsEl.addEventListener("mouseover", detail);
  chartsEl.addEventListener("click", detail);

  // --- start ---------------------------------------------------------------------------------

  async function start() {
    const q = new URLSearchParams(location.search);
    const iss = q.get("iss");
    if (iss && !/^https?:\/\/[^/]/i.test(iss)) {
      show(msg("error_launch"), true);
      return;
    }
    if (q.get("code") || q.get("error")) {
      if (q.get("error")) {
        show(msg("error_auth", { reason: q.get("error") }), true);
        return;
      }
      return finishLaunch(q.get("code"), q.get("state"));
    }
    if (iss && q.get("launch")) {
      sessionStorage.removeItem(SESSION_KEY);
      return ehrLaunch(iss, q.get("launch"));
    }
    const patient = q.get("patient") || q.get("patientId");
    if (iss && patient) {
      sessionStorage.removeItem(SESSION_KEY);
      return load(iss, patient, null); // an open FHIR server: no token
    }
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (session) return load(session.iss, session.patient, session.token);
    show(msg("error_launch"), true);
  }

  start().catch((err) => show(msg("error_auth", { reason: err.message }), true));
})();
