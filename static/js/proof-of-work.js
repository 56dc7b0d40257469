/*
 * Proof of work for the sign forms (ALTCHA v1, SHA-256), solved in the background.
 *
 * A form carrying <input type="hidden" data-pow-challenge="URL"> gets a challenge from URL when
 * someone starts filling it in, finds the number whose hash matches, and puts the solution in
 * that field. Submitting before the work is done waits for it, then submits. Without this script,
 * or without crypto.subtle, the form still works; the server then simply has no proof.
 *
 * Our own small solver rather than the official ALTCHA widget: the widget injects inline styles,
 * which our Content-Security-Policy (style-src 'self') refuses. Everything here is served by us.
 */
(function () {
  "use strict";

  if (!window.crypto || !window.crypto.subtle || !window.fetch || !window.TextEncoder) {
    return;
  }
  var encoder = new TextEncoder();
  // Hashes started together: crypto.subtle answers asynchronously, so a batch keeps it busy.
  var BATCH = 64;
  // A proof about to expire is solved again before it is sent.
  var EXPIRY_MARGIN_MS = 30 * 1000;

  function hexToBytes(hex) {
    var bytes = new Uint8Array(hex.length / 2);
    for (var i = 0; i < bytes.length; i++) {
      bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    }
    return bytes;
  }

  function sameBytes(buffer, expected) {
    var actual = new Uint8Array(buffer);
    if (actual.length !== expected.length) {
      return false;
    }
    for (var i = 0; i < actual.length; i++) {
      if (actual[i] !== expected[i]) {
        return false;
      }
    }
    return true;
  }

  async function solve(challenge) {
    var target = hexToBytes(challenge.challenge);
    for (var start = 0; start <= challenge.maxNumber; start += BATCH) {
      var end = Math.min(start + BATCH - 1, challenge.maxNumber);
      var hashes = [];
      for (var n = start; n <= end; n++) {
        hashes.push(crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n)));
      }
      var results = await Promise.all(hashes);
      for (var i = 0; i < results.length; i++) {
        if (sameBytes(results[i], target)) {
          return start + i;
        }
      }
    }
    return null;
  }

  function expiresAt(salt) {
    var match = /[?&]expires=(\d+)/.exec(salt);
    return match ? Number(match[1]) * 1000 : Infinity;
  }

  function setUp(input) {
    var form = input.form;
    if (!form) {
      return;
    }
    var work = null;
    var expires = 0;
    var failures = 0;

    function start() {
      // Done or under way and fresh; or given up on after a few failed tries.
      if ((work && expires - Date.now() > EXPIRY_MARGIN_MS) || failures >= 3) {
        return work || Promise.resolve();
      }
      input.value = "";
      expires = Infinity;
      work = fetch(input.dataset.powChallenge, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("no challenge");
          }
          return response.json();
        })
        .then(function (challenge) {
          expires = expiresAt(challenge.salt);
          return solve(challenge).then(function (number) {
            if (number === null) {
              return;
            }
            input.value = btoa(
              JSON.stringify({
                algorithm: challenge.algorithm,
                challenge: challenge.challenge,
                number: number,
                salt: challenge.salt,
                signature: challenge.signature,
              })
            );
          });
        })
        .catch(function () {
          // No proof is sent: the server treats the form as one sent without JavaScript.
          expires = 0;
          failures += 1;
        });
      return work;
    }

    // Where the wait after a press of the button is said: a live region in the page from the
    // start, since one added at the moment of speaking is not reliably read out.
    var status = document.createElement("p");
    status.className = "small text-body-secondary mb-0 pow-status";
    status.setAttribute("role", "status");
    form.appendChild(status);

    var sending = false;
    var waiting = false;
    form.addEventListener("focusin", start);
    form.addEventListener("pointerdown", start);
    form.addEventListener("submit", function (event) {
      if (sending) {
        return;
      }
      event.preventDefault();
      if (waiting) {
        return;
      }
      waiting = true;
      var submitter = event.submitter;
      form.setAttribute("aria-busy", "true");
      status.textContent = input.dataset.powWaiting || "";
      start().then(function () {
        // A task later, not a microtask: while this submit event is still being dispatched the
        // browser ignores a new submission.
        setTimeout(function () {
          sending = true;
          form.removeAttribute("aria-busy");
          if (form.requestSubmit) {
            form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
          } else {
            form.submit();
          }
        }, 0);
      });
    });
  }

  function init() {
    document.querySelectorAll("input[data-pow-challenge]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
