// One modal dialog for the alert actions: a form with a few fields, the server's error shown in
// it when the request fails, closed when it succeeds.

import { el, $ } from './dom.js';

/**
 * openDialog({kind, title, text, fields, submitLabel, onSubmit}):
 *   fields: [{name, label, type: 'textarea'|'select'|'text', value, required, maxLength,
 *             options: [[value, label]]}]
 *   onSubmit(values) -> Promise; a thrown error's describe() (or message) is shown in the form.
 */
export function openDialog({ kind, title, text, fields = [], submitLabel = 'OK', onSubmit }) {
  const dialog = $('action-dialog');
  if (dialog.open) dialog.close();
  dialog.dataset.kind = kind;
  const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const inputs = {};
  const rows = fields.map((f) => {
    const id = `dlg-${f.name}`;
    let input;
    if (f.type === 'select') {
      input = el('select', { id, name: f.name },
        f.options.map(([v, label]) => el('option', { value: v, text: label, selected: v === f.value })));
    } else if (f.type === 'textarea') {
      input = el('textarea', { id, name: f.name, rows: 3, maxlength: f.maxLength || 1000 });
      input.value = f.value || '';
    } else {
      input = el('input', { id, name: f.name, type: 'text', maxlength: f.maxLength || 1000 });
      input.value = f.value || '';
    }
    if (f.required) input.required = true;
    inputs[f.name] = input;
    return el('div', { class: 'field' }, el('label', { for: id, text: f.label }), input);
  });
  const cancel = el('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  const submit = el('button', { type: 'submit', class: 'primary', 'data-submit': kind, text: submitLabel });
  const form = el('form', { novalidate: true },
    el('h2', { text: title }),
    text ? el('p', { class: 'dialog-text', text }) : null,
    rows,
    error,
    el('div', { class: 'dialog-buttons' }, cancel, submit));
  cancel.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = {};
    for (const [name, input] of Object.entries(inputs)) values[name] = input.value.trim();
    for (const f of fields) {
      if (f.required && !values[f.name]) {
        error.textContent = `${f.label} is required.`;
        error.hidden = false;
        inputs[f.name].focus();
        return;
      }
    }
    submit.disabled = true;
    cancel.disabled = true;
    error.hidden = true;
    try {
      await onSubmit(values);
      dialog.close();
    } catch (err) {
      error.textContent = err && typeof err.describe === 'function' ? err.describe() : String(err && err.message ? err.message : err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
      cancel.disabled = false;
    }
  });
  dialog.replaceChildren(form);
  dialog.showModal();
  const first = Object.values(inputs)[0];
  (first || submit).focus();
}

export function closeDialog() {
  const dialog = $('action-dialog');
  if (dialog.open) dialog.close();
}
