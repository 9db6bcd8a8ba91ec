export { VisualInspectionSDK } from './sdk.ts';
export type { SDKOptions, Language, ParameterValues, WaitOptions, UploadOptions, UploadFolderOptions, ItemsQuery, TargetRef } from './sdk.ts';
export { APIError, ModelFailedError, WaitTimeoutError } from './errors.ts';
export type { ErrorBody } from './errors.ts';
export type { FileInput, NamedData } from './files.ts';
export type * from './types.ts';
