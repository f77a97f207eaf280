// A small JSON API with routing on request.path: a notes list kept in module state.
// Module-level state lives as long as the server's isolate (it is lost if the isolate is replaced).
const notes = new Map();
let nextId = 1;

function json(statuscode, value) {
  return {
    version: '1.1',
    statuscode,
    headers: { 'Content-Type': 'application/json' },
    message: JSON.stringify(value),
  };
}

export default function handler(request) {
  const parts = request.path.split('/').filter(Boolean);
  if (parts[0] !== 'notes' || parts.length > 2) return json(404, { error: 'not found' });

  if (parts.length === 1) {
    if (request.verb === 'GET') {
      const limit = Number(request.querydict.limit ?? Infinity);
      return json(200, { notes: [...notes.values()].slice(0, limit) });
    }
    if (request.verb === 'POST') {
      let body;
      try {
        body = JSON.parse(request.datastream.text());
      } catch {
        return json(400, { error: 'body must be JSON' });
      }
      if (typeof body.text !== 'string') return json(400, { error: 'text must be a string' });
      const note = { id: nextId++, text: body.text };
      notes.set(note.id, note);
      return json(201, note);
    }
    return json(405, { error: 'method not allowed' });
  }

  const note = notes.get(Number(parts[1]));
  if (note === undefined) return json(404, { error: 'no such note' });
  if (request.verb === 'GET') return json(200, note);
  if (request.verb === 'DELETE') {
    notes.delete(note.id);
    return { version: '1.1', statuscode: 204, headers: {}, message: '' };
  }
  return json(405, { error: 'method not allowed' });
}
