// The failure converter for deployments that encrypt payloads: a failure's message and stack trace
// move into its encoded attributes (a payload), so the payload codec encrypts them too. Loaded by
// path (`failureConverterPath`, see ENCRYPTED_FAILURE_CONVERTER_PATH) in workers, bundles and clients.
import { DefaultFailureConverter } from '@temporalio/common';

/**
 * `DefaultFailureConverter({ encodeCommonAttributes: true })`, for worker, bundle and clients alike:
 *
 * @example
 * dataConverter: { payloadCodecs: [codec], failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH }
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
