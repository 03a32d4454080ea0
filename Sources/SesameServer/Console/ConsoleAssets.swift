/// The Console's stylesheet and its one small script, served from `/console/assets/` so the pages can
/// forbid inline scripts and styles. Every page works without the script; it adds copy buttons,
/// confirmations before deleting, and a live preview that follows the sign-in experience form.
enum ConsoleAssets {
    static let stylesheet = """
        :root { color-scheme: light dark; --accent: #5D34F2; --link: #5D34F2; --line: #8884; --muted: #767676;
                --danger: #c62828; }
        /* Buttons keep the dark accent (white text on it is 6:1); text links and errors lighten on dark pages. */
        @media (prefers-color-scheme: dark) { :root { --link: #b9a6ff; --muted: #a8a8a8; --danger: #ff8a80; } }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "PingFang SC", sans-serif;
               background: Canvas; color: CanvasText; }
        a { color: var(--link); }
        header.top { display: flex; align-items: center; gap: 16px; padding: 10px 20px; border-bottom: 1px solid var(--line);
                     flex-wrap: wrap; }
        header.top .brand { font-weight: 700; text-decoration: none; color: CanvasText; margin-right: auto; }
        header.top form { display: flex; gap: 8px; align-items: center; margin: 0; }
        nav.lang { display: flex; gap: 8px; }
        nav.lang a[aria-current] { font-weight: 700; text-decoration: none; color: CanvasText; }
        .shell { display: flex; min-height: calc(100vh - 50px); }
        nav.side { width: 220px; flex: none; padding: 16px 12px; border-right: 1px solid var(--line); display: flex;
                   flex-direction: column; gap: 2px; }
        nav.side a { padding: 8px 12px; border-radius: 8px; text-decoration: none; color: CanvasText; }
        nav.side a[aria-current] { background: color-mix(in srgb, var(--accent) 16%, transparent); font-weight: 600; }
        main { flex: 1; min-width: 0; padding: 24px; max-width: 1100px; }
        main.narrow { max-width: 440px; margin: 40px auto; }
        h1 { font-size: 1.5rem; margin: 0 0 6px; }
        h2 { font-size: 1.15rem; margin: 28px 0 10px; }
        p.lead { margin: 0 0 20px; color: var(--muted); }
        label { display: block; font-weight: 600; margin: 14px 0 4px; }
        label.inline { display: inline-flex; gap: 6px; align-items: center; font-weight: 400; margin: 6px 16px 6px 0; }
        .hint { font-size: .85rem; color: var(--muted); margin: 2px 0 0; }
        input[type=text], input[type=email], input[type=password], input[type=number], input[type=url],
        input[type=search], input[type=datetime-local], select, textarea {
            width: 100%; padding: 9px 10px; font: inherit; border: 1px solid var(--line); border-radius: 8px;
            background: Field; color: FieldText; }
        input[type=color] { width: 64px; height: 38px; padding: 2px; border: 1px solid var(--line); border-radius: 8px; }
        textarea { min-height: 90px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
        textarea.tall { min-height: 260px; }
        :focus-visible { outline: 3px solid var(--link); outline-offset: 2px; }
        button, .button { display: inline-block; padding: 9px 16px; font: inherit; font-weight: 600; border: 0;
                          border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer;
                          text-decoration: none; }
        button.secondary, .button.secondary { background: transparent; color: CanvasText; border: 1px solid var(--line); }
        button.danger { background: var(--danger); color: #fff; }
        button.link { background: none; color: var(--link); padding: 0; font-weight: 400; text-decoration: underline; }
        button.copy { padding: 4px 10px; font-size: .85rem; background: transparent; color: var(--link);
                      border: 1px solid var(--line); }
        .actions { display: flex; gap: 10px; flex-wrap: wrap; margin-top: 18px; align-items: center; }
        .error { color: var(--danger); background: color-mix(in srgb, var(--danger) 10%, transparent);
                 border-radius: 8px; padding: 9px 12px; margin: 12px 0; }
        .field-error { color: var(--danger); font-size: .9rem; margin: 4px 0 0; }
        .notice { background: color-mix(in srgb, #2e7d32 14%, transparent); border-radius: 8px; padding: 9px 12px;
                  margin: 0 0 16px; }
        .secret { background: color-mix(in srgb, #f9a825 16%, transparent); border-radius: 8px; padding: 12px;
                  margin: 12px 0; }
        .card { border: 1px solid var(--line); border-radius: 12px; padding: 16px; margin: 0 0 16px; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; margin: 8px 0 20px; }
        .cards a { display: block; border: 1px solid var(--line); border-radius: 12px; padding: 14px; text-decoration: none;
                   color: CanvasText; }
        .cards a:hover, .cards a:focus-visible { border-color: var(--accent); }
        .cards strong { display: block; }
        .cards span { font-size: .85rem; color: var(--muted); }
        table { width: 100%; border-collapse: collapse; margin: 8px 0 16px; }
        th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--line); vertical-align: top;
                 overflow-wrap: anywhere; }
        th { font-size: .85rem; color: var(--muted); font-weight: 600; }
        .table-wrap { overflow-x: auto; }
        code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
        code { overflow-wrap: anywhere; }
        pre { background: color-mix(in srgb, CanvasText 6%, transparent); padding: 12px; border-radius: 8px;
              overflow-x: auto; white-space: pre; }
        dl.values { display: grid; grid-template-columns: minmax(120px, max-content) 1fr; gap: 8px 16px; }
        dl.values dt { font-weight: 600; }
        dl.values dd { margin: 0; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; min-width: 0; }
        ol.guide > li { margin-bottom: 14px; }
        .badge { display: inline-block; font-size: .8rem; padding: 1px 8px; border-radius: 999px;
                 border: 1px solid var(--line); }
        .badge.on { background: color-mix(in srgb, #2e7d32 18%, transparent); }
        .split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 24px; align-items: start; }
        .preview { position: sticky; top: 12px; }
        .preview iframe { width: 100%; height: 640px; border: 1px solid var(--line); border-radius: 12px; background: #fff; }
        fieldset { border: 1px solid var(--line); border-radius: 12px; padding: 8px 16px 16px; margin: 0 0 16px; }
        legend { font-weight: 700; padding: 0 6px; }
        .filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 0 12px; }
        .pager { display: flex; gap: 12px; align-items: center; }
        .readme { border-left: 3px solid var(--line); padding: 0 16px; margin: 0 0 20px; }
        .muted { color: var(--muted); }
        @media (max-width: 760px) {
            .shell { flex-direction: column; }
            nav.side { width: auto; flex-direction: row; overflow-x: auto; border-right: 0; border-bottom: 1px solid var(--line);
                       padding: 8px; }
            nav.side a { white-space: nowrap; }
            main { padding: 16px; }
            .split { grid-template-columns: 1fr; }
            .preview { position: static; }
            dl.values { grid-template-columns: 1fr; }
        }
        """

    static let script = """
        'use strict';
        document.addEventListener('click', (event) => {
          const copy = event.target.closest('[data-copy]');
          if (copy) {
            const source = document.getElementById(copy.dataset.copy);
            const text = source ? source.textContent.trim() : '';
            const done = () => { copy.textContent = copy.dataset.copied || 'Copied'; };
            if (navigator.clipboard && window.isSecureContext) {
              navigator.clipboard.writeText(text).then(done);
            } else {
              const range = document.createRange();
              range.selectNodeContents(source);
              const selection = window.getSelection();
              selection.removeAllRanges();
              selection.addRange(range);
              if (document.execCommand('copy')) { done(); }
            }
          }
          const confirmed = event.target.closest('[data-confirm]');
          if (confirmed && !window.confirm(confirmed.dataset.confirm)) { event.preventDefault(); }
        });
        const settings = document.getElementById('sign-in-experience');
        const previewButton = document.getElementById('preview-button');
        if (settings && previewButton) {
          let timer;
          const refresh = () => { clearTimeout(timer); timer = setTimeout(() => previewButton.click(), 350); };
          settings.addEventListener('input', refresh);
          settings.addEventListener('change', refresh);
        }
        """
}
