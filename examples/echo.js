// Echoes the request back as JSON: the whole request dict (less datastream) and the body as text.
export default function handler(request) {
  const { datastream, ...dict } = request;
  const body = datastream.text();
  return {
    version: '1.1',
    statuscode: 200,
    headers: { 'Content-Type': 'application/json' },
    message: JSON.stringify({ ...dict, body }),
  };
}
