// Submit a task from the page, for trying the platform: type, payload (JSON, checked as it is
// typed), priority and requirements. The server checks the rest and its answer is shown as it is.

import { announce, h, patchChildren } from './dom.js';

/** The payload as JSON, or the reason it is not. */
export function parsePayload(text) {
  if (!text.trim()) return { value: null };
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: `The payload is not valid JSON: ${err.message}` };
  }
}

const int = (form, name) => {
  const raw = String(new FormData(form).get(name) ?? '').trim();
  return raw === '' ? undefined : Number(raw);
};

export class SubmitForm {
  #open = false;
  #error = '';
  #busy = false;

  constructor({ root, api }) {
    this.root = root;
    this.api = api;
    root.addEventListener('submit', (e) => { e.preventDefault(); void this.#submit(e.target); });
    root.addEventListener('input', (e) => {
      if (e.target.id !== 'submit-payload') return;
      const { error } = parsePayload(e.target.value);
      e.target.setAttribute('aria-invalid', error ? 'true' : 'false');
      this.root.querySelector('#submit-payload-error').textContent = error ?? '';
    });
  }

  get isOpen() {
    return this.#open;
  }

  open() {
    if (this.#open) return;
    this.#open = true;
    this.#error = '';
    document.title = 'Submit a task — an-ki';
    this.#render();
    this.root.querySelector('#submit-type')?.focus();
  }

  close() {
    this.#open = false;
  }

  #render() {
    const field = (id, label, input, hint) => h('div', { class: 'field', 'data-key': id }, h('label', { for: id }, label), input, hint ? h('span', { class: 'muted small', id: `${id}-hint` }, hint) : null);
    patchChildren(this.root,
      h('header', { class: 'panel-head' }, h('h2', { id: 'submit-title', tabindex: '-1' }, 'Submit a task')),
      h('form', { class: 'submit-form', id: 'submit-form', novalidate: true, 'aria-labelledby': 'submit-title' },
        field('submit-type', 'Type', h('input', { id: 'submit-type', name: 'type', required: true, list: 'known-types', maxlength: 128, autocomplete: 'off', placeholder: 'echo' })),
        field('submit-payload', 'Payload (JSON)', h('textarea', { id: 'submit-payload', name: 'payload', rows: 6, spellcheck: 'false', 'aria-describedby': 'submit-payload-error' }, '{}')),
        h('p', { class: 'form-error', id: 'submit-payload-error', role: 'alert' }),
        h('div', { class: 'field-row' },
          field('submit-priority', 'Priority (0–9)', h('input', { id: 'submit-priority', name: 'priority', type: 'number', min: 0, max: 9, step: 1, value: '5' })),
          field('submit-attempts', 'Attempts', h('input', { id: 'submit-attempts', name: 'maxAttempts', type: 'number', min: 1, max: 100, step: 1, placeholder: 'default' })),
          field('submit-gpus', 'GPUs', h('input', { id: 'submit-gpus', name: 'gpus', type: 'number', min: 0, max: 64, step: 1, value: '0' })),
          field('submit-gpu-memory', 'GPU memory (MiB)', h('input', { id: 'submit-gpu-memory', name: 'gpuMemoryMiB', type: 'number', min: 0, step: 1, value: '0' })),
          field('submit-labels', 'Labels', h('input', { id: 'submit-labels', name: 'labels', placeholder: 'a100, eu', autocomplete: 'off' }), 'comma separated')),
        h('p', { class: 'form-error', id: 'submit-error', role: 'alert' }, this.#error),
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'submit-task', disabled: this.#busy }, this.#busy ? 'Submitting…' : 'Submit task')));
  }

  async #submit(form) {
    if (this.#busy) return;
    const data = new FormData(form);
    const type = String(data.get('type') ?? '').trim();
    const payload = parsePayload(String(data.get('payload') ?? ''));
    const showError = (message) => { this.#error = message; this.root.querySelector('#submit-error').textContent = message; };
    if (!type) { showError('Name the task\'s type.'); form.querySelector('#submit-type').focus(); return; }
    if (payload.error) { showError(payload.error); form.querySelector('#submit-payload').focus(); return; }
    const labels = String(data.get('labels') ?? '').split(',').map((l) => l.trim()).filter(Boolean);
    const body = {
      type, payload: payload.value, priority: int(form, 'priority') ?? 5,
      requirements: { gpus: int(form, 'gpus') ?? 0, gpuMemoryMiB: int(form, 'gpuMemoryMiB') ?? 0, labels },
      ...(int(form, 'maxAttempts') !== undefined ? { maxAttempts: int(form, 'maxAttempts') } : {}),
    };
    this.#busy = true;
    form.querySelector('#submit-task').disabled = true;
    showError('');
    try {
      const task = await this.api.post('/tasks', body);
      announce(`Task ${task.id.slice(0, 8)} submitted`);
      location.hash = `#/tasks/${task.id}`;
    } catch (err) {
      showError(`The principal refused the task: ${err.message}`);
    } finally {
      this.#busy = false;
      const button = this.root.querySelector('#submit-task');
      if (button) button.disabled = false;
    }
  }
}
