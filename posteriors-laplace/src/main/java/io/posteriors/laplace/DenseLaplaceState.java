package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.DenseGaussianPosterior;
import io.posteriors.GaussianPosterior;
import io.posteriors.InitialValue;
import io.posteriors.Linalg;
import io.posteriors.Scalars;
import io.posteriors.Scopes;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The state of the dense Laplace approximations ({@link DenseFisher}, {@link DenseGgn}, {@link
 * DenseHessian}): the Gaussian {@code N(params, T prec^-1)} over the parameters, posteriors' {@code
 * DenseLaplaceState}.
 *
 * <p>The matrix is indexed by the raveled parameters ({@link TensorTree#ravel()} order: the leaves
 * in tree order, each flattened row-major). As a {@link DenseGaussianPosterior} it samples and
 * scores at a temperature T that scales the covariance (T = 1 the Laplace posterior, T = 0 the mean
 * exactly), always through the Cholesky factor {@code prec = L Lᵀ}, never the inverse: a sample is
 * {@code params + sqrt(T) z} with {@code Lᵀ z = ε}, and the log density is {@code -(x - μ)ᵀ prec (x
 * - μ) / (2T) + log det(prec) / 2 - P log(2πT) / 2}. A precision that is not positive definite
 * makes them throw, naming where the factorisation failed and the remedies.
 *
 * @param params the mean (the MAP the approximation is built around)
 * @param prec the precision matrix, shape {@code (P, P)} with P the number of parameters
 * @param step the number of batches accumulated so far
 */
public record DenseLaplaceState(TensorTree params, NDArray prec, long step)
        implements State, DenseGaussianPosterior {

    private static final Pattern LEADING_MINOR = Pattern.compile("leading minor (\\d+)");

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code prec} is not a {@code (P, P)} matrix for the P
     *     elements of {@code params}, or {@code step < 0}
     */
    public DenseLaplaceState {
        Checks.notNull(params, "params");
        Checks.notNull(prec, "prec");
        long p = params.numel();
        if (!prec.getShape().equals(new Shape(p, p))) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "prec must have shape (%d, %d) for the %d parameters, got %s",
                            p, p, p, prec.getShape()));
        }
        Checks.atLeast(step, 0L, "step");
    }

    /**
     * Checks an initial precision: a non-negative number (times the identity), or a finite,
     * symmetric (to a relative 1e-5) matrix with a non-negative diagonal.
     */
    static InitialValue requireInitPrec(InitialValue initPrec) {
        Checks.notNull(initPrec, "initPrec");
        if (!(initPrec instanceof InitialValue.Matrix m)) {
            return initPrec.requireNonNegative("initPrec");
        }
        NDArray a = m.matrix();
        int n = (int) a.getShape().get(0);
        Scopes.run(
                () -> {
                    NDArray d = a.toType(DataType.FLOAT64, false);
                    NDArray bad = d.isNaN().logicalOr(d.isInfinite()).flatten();
                    if (bad.any().getBoolean()) {
                        long at = bad.toType(DataType.INT32, false).argMax().getLong();
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "initPrec must be finite, got %s at (%d, %d)",
                                        d.flatten().get(at).getDouble(), at / n, at % n));
                    }
                    NDArray diagonal = d.flatten().get(new NDIndex("::{}", n + 1));
                    long worst = diagonal.argMin().getLong();
                    if (diagonal.getDouble(worst) < 0) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "initPrec's diagonal must be non-negative, got %s at"
                                                + " (%d, %d)",
                                        diagonal.getDouble(worst), worst, worst));
                    }
                    double scale = d.abs().max().getDouble();
                    double asym = d.sub(d.transpose()).abs().max().getDouble();
                    if (asym > 1e-5 * scale) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "initPrec must be symmetric, got a largest |A - A^T| of %s"
                                                + " against a largest |A| of %s",
                                        asym, scale));
                    }
                });
        return initPrec;
    }

    /** Builds the state at step 0 around a copy of {@code params}. */
    static DenseLaplaceState init(TensorTree params, InitialValue initPrec) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        NDArray prec = initPrec.matrix(params, "initPrec");
        return new DenseLaplaceState(params.copy(), prec, 0);
    }

    /** Returns {@code (h + hᵀ) / 2}, so that accumulated precisions are exactly symmetric. */
    static NDArray symmetrize(NDArray h) {
        return h.add(h.transpose()).muli(0.5);
    }

    /**
     * Adds a batch's curvature matrix to the precision in place, after checking that it is finite
     * (so a bad batch leaves the state as it was), and returns the state one step on.
     */
    DenseLaplaceState add(NDArray increment, String what) {
        Scopes.run(
                () -> {
                    if (Double.isFinite(Scalars.value(increment.sum()))) {
                        return; // NaN and infinities propagate into the sum
                    }
                    NDArray bad = increment.isNaN().logicalOr(increment.isInfinite()).flatten();
                    if (!bad.any().getBoolean()) {
                        return; // finite entries whose sum overflowed
                    }
                    long count = bad.toType(DataType.INT64, false).sum().getLong();
                    long at = bad.toType(DataType.INT32, false).argMax().getLong();
                    long p = increment.getShape().get(0);
                    double v =
                            increment.flatten().get(at).toType(DataType.FLOAT64, false).getDouble();
                    throw new IllegalArgumentException(
                            Checks.format(
                                    "the %s of this batch is not finite at step %d (%d non-finite"
                                            + " entries, the first %s at (%d, %d): %s and %s); the"
                                            + " state was not changed. Check the log density for"
                                            + " overflow or log(0) at these parameters",
                                    what,
                                    step,
                                    count,
                                    v,
                                    at / p,
                                    at % p,
                                    describe(at / p),
                                    describe(at % p)));
                });
        prec.addi(increment);
        return new DenseLaplaceState(params, prec, step + 1);
    }

    /**
     * Returns a deep copy: new arrays with the same values.
     *
     * @return the copy
     */
    @Override
    public DenseLaplaceState copy() {
        return new DenseLaplaceState(params.copy(), prec.duplicate(), step);
    }

    /**
     * Returns the parameters' leaves followed by the precision matrix.
     *
     * @return the arrays
     */
    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.add(prec);
        return all;
    }

    /**
     * Returns the mean, {@code params} (owned by the state).
     *
     * @return the parameters
     */
    @Override
    public TensorTree mean() {
        return params;
    }

    /**
     * Returns the lower Cholesky factor of the covariance {@code prec^-1}, from one factorisation
     * of the precision and one triangular solve: with {@code R} the reversal of the index order,
     * {@code R prec R = M Mᵀ} gives {@code prec = U Uᵀ} with {@code U = R M R} upper triangular, so
     * {@code prec^-1 = U^-ᵀ U^-1} and {@code U^-ᵀ} is the lower factor.
     *
     * @return a new {@code (P, P)} array
     * @throws IllegalArgumentException when the precision is not positive definite
     */
    @Override
    public NDArray covarianceCholesky() {
        return Scopes.call(
                prec.getManager(),
                () -> {
                    NDArray m = cholesky(prec.flip(0, 1), "factor the covariance", true);
                    NDArray ut = m.flip(0, 1).transpose();
                    NDArray eye =
                            prec.getManager()
                                    .eye(
                                            (int) prec.getShape().get(0),
                                            (int) prec.getShape().get(0),
                                            0,
                                            prec.getDataType())
                                    .toDevice(prec.getDevice(), false);
                    return Linalg.solveLower(ut, eye);
                },
                List::of);
    }

    /**
     * Draws {@code n} samples from {@code N(params, T prec^-1)} as {@code params + sqrt(T) z} with
     * {@code Lᵀ z = ε}, {@code prec = L Lᵀ} and ε standard normal: T = 1 is the Laplace posterior,
     * T = 0 returns {@code n} exact copies of the mean.
     *
     * @param n the number of samples; at least 1
     * @param temperature T, scaling the covariance; finite and non-negative
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}, T is negative or not finite, or T &gt; 0
     *     and the precision is not positive definite
     */
    @Override
    public TensorTree sample(int n, double temperature) {
        Checks.atLeast(n, 1, "n");
        Checks.nonNegative(temperature, "temperature");
        if (temperature == 0) {
            return GaussianPosterior.repeat(params, n);
        }
        return Scopes.call(
                params.manager(),
                () -> {
                    NDArray l =
                            cholesky(
                                    prec,
                                    Checks.format("sample at temperature %s", temperature),
                                    false);
                    NDArray any = params.anyLeaf();
                    NDArray eps =
                            any.getManager()
                                    .randomNormal(
                                            0,
                                            1,
                                            new Shape(params.numel(), n),
                                            any.getDataType(),
                                            any.getDevice());
                    // Lᵀ z = ε gives Cov(z) = L^-ᵀ L^-1 = (L Lᵀ)^-1 = prec^-1.
                    NDArray z = Linalg.solveUpper(l.transpose(), eps);
                    NDArray rows = z.transpose().mul(Math.sqrt(temperature)).add(params.ravel());
                    return DenseGaussianPosterior.unravelRows(params, rows);
                },
                TensorTree::leaves);
    }

    /**
     * Draws one sample at temperature 1, with the parameters' shapes (no sample dimension).
     *
     * @return a new tree with the structure of {@code params}
     * @throws IllegalArgumentException when the precision is not positive definite
     */
    public TensorTree sample() {
        try (TensorTree one = sample(1, 1.0)) {
            return Scopes.tree(() -> one.map(a -> a.squeeze(0)));
        }
    }

    /**
     * Returns the normalised log density of {@code N(params, T prec^-1)}, {@code -(x - μ)ᵀ prec (x
     * - μ) / (2T) + log det(prec) / 2 - P log(2πT) / 2}, at one point (a scalar) or at {@code m}
     * points stacked along a leading dimension (a vector of {@code m}); differentiable in {@code
     * x}.
     *
     * @param x one point (the parameters' structure) or m points (every leaf with a leading
     *     dimension m)
     * @param temperature T; finite and positive
     * @return a new array
     * @throws IllegalArgumentException when T is not positive, {@code x} has neither structure or
     *     the precision is not positive definite
     */
    @Override
    public NDArray logProb(TensorTree x, double temperature) {
        Checks.positive(temperature, "temperature");
        long m = GaussianPosterior.pointCount(params, x);
        long p = params.numel();
        return Scopes.call(
                x.manager(),
                () -> {
                    NDArray l = cholesky(prec, "evaluate the log density", false);
                    // log det prec = 2 Σ log L_ii; the diagonal is every (p + 1)-th entry
                    NDArray logDet = l.flatten().get(new NDIndex("::{}", p + 1)).log().sum();
                    NDArray xf = m < 0 ? x.ravel().reshape(1, p) : x.ravelBatched(m);
                    NDArray d = xf.sub(params.ravel());
                    NDArray quad = d.matMul(prec).mul(d).sum(new int[] {1});
                    if (m < 0) {
                        quad = quad.reshape(new Shape());
                    }
                    double constant = -0.5 * p * Math.log(2 * Math.PI * temperature);
                    return quad.mul(Scalars.like(quad, -0.5 / temperature))
                            .add(logDet.toType(quad.getDataType(), false))
                            .add(Scalars.like(quad, constant));
                },
                List::of);
    }

    /**
     * Returns the lower Cholesky factor of {@code a} (the precision, or its reversal when {@code
     * reversed}), or a clear error naming the parameter where it failed.
     */
    private NDArray cholesky(NDArray a, String action, boolean reversed) {
        try {
            return Linalg.cholesky(a);
        } catch (IllegalArgumentException e) {
            Matcher m = LEADING_MINOR.matcher(String.valueOf(e.getMessage()));
            String where = String.valueOf(e.getMessage());
            if (m.find()) {
                long k = Long.parseLong(m.group(1));
                long row = reversed ? a.getShape().get(0) - k : k - 1;
                where =
                        Checks.format(
                                "its Cholesky factorisation failed at %s %d, %s",
                                reversed ? "trailing minor" : "leading minor", k, describe(row));
            }
            throw new IllegalArgumentException(
                    Checks.format(
                            "cannot %s: prec is not positive definite (%s). Add a prior"
                                    + " precision with initPrec(...), add epsilon(...) to a"
                                    + " DenseHessian, or use DenseGgn or DenseFisher, whose"
                                    + " curvature is positive semi-definite",
                            action, where),
                    e);
        }
    }

    /** Returns where flat index {@code i} of the raveled parameters falls. */
    private String describe(long i) {
        long offset = 0;
        for (String k : params.names()) {
            long size = params.get(k).size();
            if (i < offset + size) {
                return Checks.format("element %d of leaf '%s'", i - offset, k);
            }
            offset += size;
        }
        return Checks.format("flat index %d", i);
    }
}
