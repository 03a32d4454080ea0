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
// Copy buttons exist only where the script can copy: one after every value marked `data-copyable` and
// every code block, labelled in the page's language (from <body>).
const addCopyButton = (source, after, className) => {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.dataset.copy = source.id;
  button.dataset.copied = document.body.dataset.copied || 'Copied';
  button.textContent = document.body.dataset.copyLabel || 'Copy';
  after.after(button);
};
document.querySelectorAll('[data-copyable]').forEach((value) => addCopyButton(value, value, 'copy'));
document.querySelectorAll('main pre > code').forEach((code, index) => {
  if (!code.id) { code.id = 'code-block-' + index; }
  addCopyButton(code, code.parentElement, 'copy block-copy');
});
