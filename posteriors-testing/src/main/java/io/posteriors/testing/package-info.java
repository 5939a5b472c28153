/**
 * Test support shared by every module: the {@link io.posteriors.testing.TransformContract} that
 * each transform's tests implement, and small assertion helpers. A test-scope dependency only.
 */
package io.posteriors.testing;
