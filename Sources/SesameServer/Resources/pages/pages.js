// The hosted pages' only script; every page works without it. It copies backup codes (buttons marked data-copy),
// and drives passkeys: set one up, verify one, or sign in with one (WebAuthn Level 2), through the Experience API of
// the same origin. Buttons stay hidden where the browser cannot do what they offer.
(() => {
  "use strict";
  if (navigator.clipboard) {
    for (const button of document.querySelectorAll("[data-copy]")) {
      button.hidden = false;
      button.addEventListener("click", async () => {
        const list = document.getElementById(button.dataset.copy);
        try {
          await navigator.clipboard.writeText(list.innerText.trim() + "\n");
          button.textContent = button.dataset.copied;
        } catch {
          // No clipboard here: select the codes, so the person can copy them.
          window.getSelection().selectAllChildren(list);
        }
      });
    }
  }
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  const encode = (buffer) => {
    let text = "";
    for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const decode = (text) => {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    return Uint8Array.from(binary, (character) => character.charCodeAt(0)).buffer;
  };
  const descriptors = (list) => (list || []).map((item) => ({ ...item, id: decode(item.id) }));

  const api = (method, path, body, signal) => send(method, "/api/experience" + path, body, signal);

  async function send(method, url, body, signal) {
    const response = await fetch(url, {
      method, credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}), signal,
    });
    const json = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(json.message || response.statusText);
    return json;
  }

  // A PublicKeyCredential as JSON (what toJSON() gives in newer browsers), with the response's own members.
  function credentialJSON(credential, members) {
    return {
      id: credential.id, rawId: encode(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: encode(credential.response.clientDataJSON), ...members },
    };
  }

  const registrationJSON = (credential) => credentialJSON(credential, {
    attestationObject: encode(credential.response.attestationObject),
    transports: credential.response.getTransports ? credential.response.getTransports() : [],
  });

  const assertionJSON = (credential) => credentialJSON(credential, {
    authenticatorData: encode(credential.response.authenticatorData), signature: encode(credential.response.signature),
    userHandle: credential.response.userHandle ? encode(credential.response.userHandle) : undefined,
  });

  const requestOptions = (options) => ({
    ...options, challenge: decode(options.challenge), allowCredentials: descriptors(options.allowCredentials),
  });

  let pendingAutofill = null;
  let autofillSettled = Promise.resolve();

  const create = async (options) => registrationJSON(await navigator.credentials.create({ publicKey: {
    ...options, challenge: decode(options.challenge), user: { ...options.user, id: decode(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  } }));

  const flows = {
    async register() {
      const { verificationId, registrationOptions: options } = await api("POST", "/verification/web-authn/registration");
      const payload = await create(options);
      await api("POST", "/verification/web-authn/registration/verify", { verificationId, payload });
      await api("POST", "/profile/mfa", { type: "WebAuthn", verificationId });
    },
    // The account page: the passkey is kept at once.
    async accountRegister() {
      const { verificationId, registrationOptions: options } = await send("POST", "/account/passkeys/registration");
      const payload = await create(options);
      await send("POST", "/account/passkeys/registration/verify", { verificationId, payload });
    },
    async verify() {
      const { verificationId, authenticationOptions: options } = await api("POST", "/verification/web-authn/authentication");
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      await api("POST", "/verification/web-authn/authentication/verify", { verificationId, payload: assertionJSON(credential) });
    },
    async signIn(mediation, signal) {
      await api("PUT", "", { interactionEvent: "SignIn" }, signal);
      const { verificationId, authenticationOptions: options } =
        await api("POST", "/verification/sign-in-passkey/authentication", undefined, signal);
      const request = { publicKey: requestOptions(options), signal };
      if (mediation) request.mediation = mediation;
      const credential = await navigator.credentials.get(request);
      await api("POST", "/verification/sign-in-passkey/authentication/verify",
        { verificationId, payload: assertionJSON(credential) });
      await api("POST", "/identification", { verificationId });
    },
  };

  const error = document.getElementById("passkey-error");
  function show(failure) {
    if (!error) return;
    error.textContent = failure && (failure.name === "NotAllowedError" || failure.name === "AbortError")
      ? error.dataset.cancelled : (failure && failure.message) || String(failure);
    error.hidden = false;
  }

  // The second-factor page decides what comes next (backup codes, or back to the application); the account page
  // names its own.
  const next = (button) => window.location.assign((button && button.dataset.next) || "/sign-in/mfa");

  for (const button of document.querySelectorAll("[data-passkey]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      // The autofill request in flight ends first, so its requests cannot land after the button's own.
      if (pendingAutofill) {
        pendingAutofill.abort();
        pendingAutofill = null;
        await autofillSettled;
      }
      button.disabled = true;
      if (error) error.hidden = true;
      try {
        await flows[button.dataset.passkey]();
        next(button);
      } catch (failure) {
        show(failure);
        button.disabled = false;
      }
    });
  }

  // Passkeys offered in the identifier field's autofill, where the browser can (conditional mediation).
  const field = document.querySelector("input[data-passkey-autofill]");
  if (field && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
      if (!available) return;
      pendingAutofill = new AbortController();
      autofillSettled = flows.signIn("conditional", pendingAutofill.signal).then(() => next()).catch(() => {});
    });
  }
})();
