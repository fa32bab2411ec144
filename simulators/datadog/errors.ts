/** Error bodies in Datadog's `HTTPLogErrors` shape: `{"errors":[{"status","title","detail"}]}`. */

export interface HTTPLogError {
  status: string;
  title: string;
  detail?: string;
}

export interface HTTPLogErrors {
  errors: HTTPLogError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

export function httpLogErrors(status: number, detail?: string): HTTPLogErrors {
  const error: HTTPLogError = { status: String(status), title: statusTitle(status) };
  if (detail !== undefined) error.detail = detail;
  return { errors: [error] };
}

/** The kind of HTML page a load balancer in front of the intake answers with on 5xx. */
export function htmlErrorPage(status: number): string {
  const title = `${status} ${statusTitle(status)}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}
