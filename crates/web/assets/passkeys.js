// Passkeys (WebAuthn) on the account page (enrol) and the login's second step (sign in).
// The server sends the options with binary fields as base64url and expects the
// authenticator's answer back in the same encoding. Without JavaScript (or without WebAuthn
// in the browser) the buttons stay hidden and the other factors remain.
"use strict";

const base64url = {
  toBuffer(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  },
  fromBuffer(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
};

async function postJson(url, csrf, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = response.status === 204 ? {} : await response.json();
  if (data.error === "reauthentication_required") {
    // Sensitive: the password is asked again, then the user comes back here.
    window.location.assign("/reauth?next=" + encodeURIComponent(window.location.pathname));
    throw new Error(data.message);
  }
  if (!response.ok) throw new Error(data.message || response.statusText);
  return data;
}

async function enrol(box) {
  const name = box.querySelector("input[name=name]").value.trim();
  const { publicKey } = await postJson("/api/v1/me/passkeys/challenge", box.dataset.csrf, {});
  publicKey.challenge = base64url.toBuffer(publicKey.challenge);
  publicKey.user.id = base64url.toBuffer(publicKey.user.id);
  for (const c of publicKey.excludeCredentials || []) c.id = base64url.toBuffer(c.id);
  const credential = await navigator.credentials.create({ publicKey });
  await postJson("/api/v1/me/passkeys", box.dataset.csrf, {
    name,
    credential: {
      id: credential.id,
      rawId: base64url.fromBuffer(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: base64url.fromBuffer(credential.response.attestationObject),
        clientDataJSON: base64url.fromBuffer(credential.response.clientDataJSON),
      },
      extensions: credential.getClientExtensionResults(),
    },
  });
  window.location.assign("/account");
}

async function signIn(box) {
  const { publicKey } = await postJson("/api/v1/auth/passkey/challenge", box.dataset.csrf, {});
  publicKey.challenge = base64url.toBuffer(publicKey.challenge);
  for (const c of publicKey.allowCredentials || []) c.id = base64url.toBuffer(c.id);
  const credential = await navigator.credentials.get({ publicKey });
  const r = credential.response;
  const step = await postJson("/api/v1/auth/verify", box.dataset.csrf, {
    method: "passkey",
    credential: {
      id: credential.id,
      rawId: base64url.fromBuffer(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: base64url.fromBuffer(r.authenticatorData),
        clientDataJSON: base64url.fromBuffer(r.clientDataJSON),
        signature: base64url.fromBuffer(r.signature),
        userHandle: r.userHandle ? base64url.fromBuffer(r.userHandle) : null,
      },
      extensions: credential.getClientExtensionResults(),
    },
  });
  window.location.assign(step.status === "authenticated" ? "/app" : "/login/verify");
}

document.addEventListener("DOMContentLoaded", () => {
  if (!window.PublicKeyCredential) return;
  for (const box of document.querySelectorAll("[data-passkey]")) {
    const button = box.querySelector("button");
    const alert = box.querySelector("[role=alert]");
    const action = box.dataset.passkey === "enrol" ? enrol : signIn;
    box.hidden = false;
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      button.disabled = true;
      alert.hidden = true;
      try {
        await action(box);
      } catch (error) {
        // The browser's own message (e.g. "cancelled") is not translated; ours is.
        console.error(error);
        alert.textContent = box.dataset.failed;
        alert.hidden = false;
        button.disabled = false;
      }
    });
  }
});
