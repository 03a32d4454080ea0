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
// Every code block gets a Copy button (labels from the page's language, on <body>), unless it has one.
document.querySelectorAll('main pre > code').forEach((code, index) => {
  const block = code.parentElement;
  if (block.nextElementSibling && block.nextElementSibling.matches('button.copy')) { return; }
  if (!code.id) { code.id = 'code-block-' + index; }
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'copy block-copy';
  button.dataset.copy = code.id;
  button.dataset.copied = document.body.dataset.copied || 'Copied';
  button.textContent = document.body.dataset.copyLabel || 'Copy';
  block.after(button);
});
