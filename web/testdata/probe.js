// probe.js is injected into pages by the browser tests. It reads what a person would see
// (DOM state, playing media) and runs the accessibility checks. It changes nothing.
(() => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    if (el.closest('[hidden]')) return false;
    const st = getComputedStyle(el);
    if (st.display === 'none' || st.visibility === 'hidden') return false;
    return el.getClientRects().length > 0;
  };

  // Colours: parse rgb()/rgba(), composite, relative luminance (WCAG 2).
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c || '');
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const ch = (i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
    return [ch(0), ch(1), ch(2), a];
  };
  const lum = (c) => {
    const f = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const background = (el) => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1]; // the canvas, if nothing is opaque
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };

  const nameOf = (el) => {
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const t = by.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
      if (t) return t;
    }
    const aria = (el.getAttribute('aria-label') || '').trim();
    if (aria) return aria;
    if (el.labels && el.labels.length) {
      const t = [...el.labels].map((l) => l.textContent).join(' ').trim();
      if (t) return t;
    }
    if (el.tagName === 'IMG') return (el.getAttribute('alt') || '').trim();
    if (el.tagName === 'BUTTON' || el.tagName === 'A') {
      const t = el.textContent.trim();
      if (t) return t;
    }
    return (el.getAttribute('title') || '').trim();
  };

  window.probe = {
    visible(sel) { return visible(document.querySelector(sel)); },
    text(sel) {
      const el = document.querySelector(sel);
      return el && visible(el) ? el.innerText.trim() : '';
    },
    visibleText() { return document.body.innerText; },
    count(sel) { return [...document.querySelectorAll(sel)].filter(visible).length; },

    // playing reports whether the video matched by sel shows moving pictures.
    async playing(sel, ms = 500) {
      const v = document.querySelector(sel);
      if (!v || !visible(v) || !v.videoWidth) return false;
      const t0 = v.currentTime;
      const f0 = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
      await sleep(ms);
      const f1 = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 1;
      return !v.paused && v.currentTime > t0 && f1 > f0 && v.videoWidth > 0;
    },

    // received sums inbound-rtp bytes of one publisher's kind on the down connection.
    async received(pid, kind) {
      const all = await window.ringside.inbound();
      return all.filter((s) => s.pid === pid && s.kind === kind).reduce((n, s) => n + s.bytesReceived, 0);
    },
    // flowing reports whether those bytes rise over ms.
    async flowing(pid, kind, ms = 500) {
      const a = await this.received(pid, kind);
      await sleep(ms);
      const b = await this.received(pid, kind);
      return b > a;
    },
    async sentRising(kind, ms = 500) {
      const sum = async () => (await window.ringside.outbound()).filter((s) => s.kind === kind)
        .reduce((n, s) => n + s.bytesSent, 0);
      const a = await sum();
      await sleep(ms);
      return (await sum()) > a;
    },
    async sentBytes() {
      return (await window.ringside.outbound()).reduce((n, s) => n + s.bytesSent, 0);
    },

    // trace of a value over time, to assert on states too brief to poll.
    history: [],
    watchConnection() {
      const push = () => {
        const v = document.body.dataset.connection || '';
        if (this.history[this.history.length - 1] !== v) this.history.push(v);
      };
      push();
      new MutationObserver(push).observe(document.body, { attributes: true, attributeFilter: ['data-connection'] });
    },

    // a11y lists controls without an accessible name, clickable things that are not real
    // controls, and text below WCAG AA contrast (4.5:1, 3:1 for large text).
    a11y() {
      const problems = [];
      const controls = document.querySelectorAll('button, input, select, textarea, a[href], [role="button"], [tabindex]:not([tabindex="-1"])');
      for (const el of controls) {
        if (!visible(el) || el.type === 'hidden') continue;
        if (!nameOf(el)) problems.push(`no accessible name: ${el.outerHTML.slice(0, 120)}`);
        if (!['BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'A'].includes(el.tagName)) {
          problems.push(`not a native control: ${el.outerHTML.slice(0, 120)}`);
        }
      }
      for (const img of document.querySelectorAll('img')) {
        if (visible(img) && !img.hasAttribute('alt')) problems.push(`image without alt: ${img.src}`);
      }
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const seen = new Set();
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.textContent.trim() || seen.has(el) || !visible(el)) continue;
        seen.add(el);
        if (el.closest('.visually-hidden')) continue;
        const st = getComputedStyle(el);
        const bg = background(el);
        const fg = over(parse(st.color), bg);
        const size = parseFloat(st.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
        const r = ratio(fg, bg);
        if (r < (large ? 3 : 4.5)) {
          problems.push(`contrast ${r.toFixed(2)} for "${n.textContent.trim().slice(0, 40)}" (${st.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`);
        }
      }
      return problems;
    },

    // focused describes the element that has the keyboard focus and whether it shows it.
    focused() {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const st = getComputedStyle(el);
      return {
        tag: el.tagName, id: el.id, name: nameOf(el),
        focusVisible: el.matches(':focus-visible'),
        outline: st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2,
      };
    },
  };
})();
