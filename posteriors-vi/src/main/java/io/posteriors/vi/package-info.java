/** Mean-field and dense Gaussian variational inference. */
package io.posteriors.vi;
