import { ApiError, message } from '../http/errors.ts';
import { checkHost, OutboundAddressRefused, type OutboundPolicy } from './address-policy.ts';
import { urlWithoutCredentials } from './url-credentials.ts';

/** Registration refuses what delivery would refuse, as a 400 naming the field. */
export async function refuseOutboundHost(url: URL, policy: OutboundPolicy, field: string): Promise<void> {
  try {
    await checkHost(url.hostname, policy);
  } catch (error) {
    // A name that does not resolve is refused alike: the answer must not tell internal names from unknown ones.
    const shown = urlWithoutCredentials(url.href);
    if (error instanceof OutboundAddressRefused || (error as NodeJS.ErrnoException).code !== undefined) {
      throw new ApiError(400, 'invalidRequest', message('outboundAddressRefused', { field, url: shown }));
    }
    throw error;
  }
}
