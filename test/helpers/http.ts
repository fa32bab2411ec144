/** GETs a URL and parses a JSON body when the answer says it is JSON (simulator tests). */
export async function getJson(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: any; res: Response }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('application/json')) body = JSON.parse(text);
  return { status: res.status, body, res };
}
