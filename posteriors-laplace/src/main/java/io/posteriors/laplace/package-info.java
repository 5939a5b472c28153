/** Diagonal and dense Laplace approximations: empirical Fisher, GGN, Hessian. */
package io.posteriors.laplace;
