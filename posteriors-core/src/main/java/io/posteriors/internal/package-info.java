/**
 * Implementation details of posteriors-core: the TorchScript autograd bridge and helpers that the
 * public API builds on. Nothing here is part of the API; it may change without notice.
 */
package io.posteriors.internal;
