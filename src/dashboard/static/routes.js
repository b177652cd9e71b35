// The page address: which view (`#/`, `#/tasks/ID`, `#/workflows[?status=]`, `#/workflows/ID`,
// `#/schedules[/ID]`, `#/charts`, `#/dead-letters`, `#/submit`) and its parameters.

const UUID = '[0-9a-fA-F-]{36}';

export function parseRoute(hash) {
  const full = hash || '#/';
  const q = full.indexOf('?');
  const path = q === -1 ? full : full.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : full.slice(q + 1));
  let m;
  if ((m = new RegExp(`^#/tasks/(${UUID})$`).exec(path))) return { view: 'task', section: 'tasks', id: m[1], params };
  if ((m = new RegExp(`^#/workflows/(${UUID})$`).exec(path))) return { view: 'workflow', section: 'workflows', id: m[1], params };
  if (path === '#/charts') return { view: 'charts', section: 'charts', id: null, params };
  if (path === '#/dead-letters') return { view: 'dead-letters', section: 'dead-letters', id: null, params };
  if (path === '#/submit') return { view: 'submit', section: 'submit', id: null, params };
  if (path === '#/workflows') return { view: 'workflows', section: 'workflows', id: null, params };
  if ((m = new RegExp(`^#/schedules(?:/(${UUID}))?$`).exec(path))) return { view: 'schedules', section: 'schedules', id: m[1] ?? null, params };
  return { view: 'tasks', section: 'tasks', id: null, params };
}
