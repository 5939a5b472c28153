/**
 * Saving and loading tensor trees, sample posteriors and states: {@link
 * io.posteriors.io.PosteriorFiles} writes single safetensors files (readable by Python's {@code
 * safetensors}) with the posteriors metadata and CRC32C checksums in the header, and loads them
 * back bit for bit onto the caller's manager and device, refusing truncated, corrupted or hostile
 * files with a {@link io.posteriors.io.PosteriorFileException} that names the problem. No Java
 * serialization is used. See {@code docs/persistence.md}.
 */
package io.posteriors.io;
