package io.posteriors.sgmcmc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProbFn;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.Trace;
import io.posteriors.TraceResult;
import io.posteriors.Transform;
import java.util.Collections;
import java.util.Locale;
import java.util.function.Function;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * posteriors' statistical scenario ({@code tests/sgmcmc/utils.py}), made sound: a random Gaussian
 * target, chains started with variance 100, 100,000 steps of which the first 15,000 are burn-in, at
 * posteriors' settings, with upstream's tolerances applied to K independent chains pooled.
 *
 * <p>The K chains are one chain on the block-diagonal target of dimension K d (a {@code (K, d)}
 * leaf), so a step costs a handful of array operations whatever K. For SGLD, SGHMC and BAOA this is
 * exactly K independent copies of upstream's chain. SGNHT's thermostat is one scalar for the whole
 * state, so its block-diagonal chain is a K d-dimensional SGNHT chain rather than K copies of a
 * d-dimensional one; its stationary law for the parameters is the same product of K targets.
 *
 * <p>Why the tolerances hold for any seed. At these settings every sampler moves like overdamped
 * Langevin dynamics with time step 0.01 (SGHMC: ε² σ⁻² / (1 − μ) = 0.001 / 0.1; checked by solving
 * the discrete Lyapunov equation of each linear update in a script): along an eigendirection of
 * variance λ the integrated autocorrelation time of a whitened coordinate is about {@code 200 λ}
 * steps, and that of its square about {@code 100 λ}. With {@code N = 85,000 K} pooled draws, the
 * standard error of a whitened mean is {@code sqrt(200 λ / N)} and that of a whitened variance
 * {@code sqrt(2 · 100 λ / N)}, the same; off-diagonal entries have less. The tolerance 0.1 is at
 * least 4.5 standard errors when {@code K ≥ 200 λ (4.5 / 0.1)² / 85,000 = 4.77 λ}, so K is 16,
 * raised when the drawn target's largest variance λ asks for more. For SGNHT the margin left beside
 * its known bias ({@link #SGNHT_BIAS}) is 0.047, which needs {@code K ≥ 21.6 λ} (at least 32). The
 * checks are made in whitened coordinates {@code L⁻¹ (x − μ)} with {@code Σ = L Lᵀ}: in raw
 * coordinates the standard error grows like λ^(3/2) and upstream's absolute 0.1 fails for about 3%
 * of random targets even with 16 chains (measured over 100 targets; 4 of 8 in dimension 5). The
 * discretisation bias of the covariance is below 0.8% for SGLD, 0.05% for SGHMC and zero for BAOA
 * at these settings. KL(fit of all kept draws) is below 1% of KL(start) by orders of magnitude, and
 * is compared with KL(fit of the first 1/256 of the draws): the latter rests on {@code 332 K}
 * draws, about 27 effective ones, so its KL is about {@code (d + d(d+1)/2) / (2 · 27)}, hundreds of
 * times the KL of the whole run.
 */
@Tag("slow")
class GaussianTargetTest {

    private static final long STEPS = 100_000;
    private static final long BURN_IN = 15_000;

    /**
     * SGNHT's discretisation bias of a whitened variance at these settings. The thermostat settles
     * where the discrete momenta have the kinetic temperature T, but the discrete friction step
     * alone already leaves them hotter by the factor 1 / (1 − h / 2) with h = ε α σ⁻² = 0.1; so ξ
     * settles about 5.6% above α and the parameters' variance shrinks by 5.3% (a discrete Lyapunov
     * equation gives 0.947 for every eigenvalue of the target; a simulation of the scenario in
     * numpy confirmed it).
     */
    private static final double SGNHT_BIAS = 0.053;

    @Test
    void sgld_gaussianTarget_pooledChainsMatchMomentsAndKl() {
        scenario("sgld", 2, 16, 0.0, 101, lp -> Sgld.<Void>builder(lp, 1e-2).beta(0.0).build());
    }

    @Test
    void sghmc_gaussianTarget_pooledChainsMatchMomentsAndKl() {
        scenario("sghmc", 2, 16, 0.0, 102, GaussianTargetTest::sghmc);
    }

    @Test
    void sghmc_fiveDimensionalTarget_pooledChainsMatchInWhitenedCoordinates() {
        scenario("sghmc", 5, 16, 0.0, 103, GaussianTargetTest::sghmc);
    }

    @Test
    void sgnht_gaussianTarget_pooledChainsMatchMomentsAndKl() {
        scenario(
                "sgnht",
                2,
                32,
                SGNHT_BIAS,
                104,
                lp ->
                        Sgnht.<Void>builder(lp, 0.1)
                                .alpha(10.0)
                                .sigma(Math.sqrt(10.0))
                                .beta(0.0)
                                .momenta(0.0)
                                .build());
    }

    @Test
    void baoa_gaussianTarget_pooledChainsMatchMomentsAndKl() {
        scenario(
                "baoa",
                2,
                16,
                0.0,
                105,
                lp ->
                        Baoa.<Void>builder(lp, 0.1)
                                .alpha(10.0)
                                .sigma(Math.sqrt(10.0))
                                .momenta(0.0)
                                .build());
    }

    /**
     * posteriors' SGHMC settings in torch.optim.SGD terms (lr 1e-2, momentum 0.9, dampening 0.9)
     * give ε = 0.1, α = 10, σ = √10.
     */
    private static Transform<SghmcState, Void> sghmc(LogProbFn<Void> lp) {
        return Sghmc.<Void>builder(lp, 0.1)
                .alpha(10.0)
                .sigma(Math.sqrt(10.0))
                .beta(0.0)
                .momenta(0.0)
                .build();
    }

    private static <S extends State> void scenario(
            String name,
            int d,
            int minChains,
            double bias,
            long seed,
            Function<LogProbFn<Void>, Transform<S, Void>> build) {
        GaussianTarget target = new GaussianTarget(d, seed);
        double lambda = target.largestVariance();
        double margin = 0.1 - bias;
        int k =
                Math.max(
                        minChains,
                        (int)
                                Math.ceil(
                                        200
                                                * lambda
                                                * Math.pow(4.5 / margin, 2)
                                                / (STEPS - BURN_IN)));
        Engine.getInstance().setRandomSeed((int) seed);
        try (NDManager m = NDManager.newBaseManager()) {
            Transform<S, Void> t = build.apply(target.logProb(m, DataType.FLOAT32));
            NDArray x0 = m.randomNormal(0, 10, new Shape(k, d), DataType.FLOAT32);
            Trace<S, Void> trace = Trace.builder(t, STEPS).burnIn(BURN_IN).build();
            try (TraceResult<S> r = trace.run(TensorTree.of(x0), Collections.singletonList(null))) {
                NDArray samples = r.samples().get("x"); // (1, kept, k, d)
                long kept = r.keptPerChain();
                long first = kept / 256;
                Fit all = fit(samples.reshape(-1, d));
                Fit early;
                try (NDArray head = samples.get(new NDIndex(":, 0:{}", first))) {
                    early = fit(head.reshape(-1, d));
                }
                RealVector wMean = target.whitenedMean(all.mean);
                RealMatrix wCovError =
                        target.whitenedCov(all.cov)
                                .subtract(MatrixUtils.createRealIdentityMatrix(d));
                double klInit =
                        target.klFrom(
                                new ArrayRealVector(d),
                                MatrixUtils.createRealIdentityMatrix(d).scalarMultiply(100));
                double klAll = target.klFrom(all.mean, all.cov);
                double klEarly = target.klFrom(early.mean, early.cov);
                double se = Math.sqrt(200 * lambda / (kept * (double) k));
                String report =
                        String.format(
                                Locale.ROOT,
                                "%s d=%d K=%d λmax=%.3f se≈%.4f: whitened mean error %s, whitened"
                                        + " covariance error %s, KL all %.3g, KL first 1/256 %.3g,"
                                        + " KL start %.3g",
                                name,
                                d,
                                k,
                                lambda,
                                se,
                                wMean,
                                wCovError,
                                klAll,
                                klEarly,
                                klInit);
                System.out.println(report);
                assertTrue(wMean.getLInfNorm() < 0.1, report);
                assertTrue(maxAbs(wCovError) < 0.1, report);
                assertTrue(klAll < 0.01 * klInit, report);
                assertTrue(klAll < klEarly, report);
            }
        }
    }

    /** The mean and unbiased covariance of the rows of an (n, d) array, in float64. */
    private record Fit(RealVector mean, RealMatrix cov) {}

    private static Fit fit(NDArray rows) {
        try (NDArray x = rows.toType(DataType.FLOAT64, true);
                NDArray mean = x.mean(new int[] {0});
                NDArray centred = x.sub(mean);
                NDArray cov = centred.transpose().matMul(centred).div(x.getShape().get(0) - 1)) {
            int d = (int) x.getShape().get(1);
            double[] c = cov.toDoubleArray();
            double[][] cm = new double[d][d];
            for (int i = 0; i < d; i++) {
                System.arraycopy(c, i * d, cm[i], 0, d);
            }
            return new Fit(new ArrayRealVector(mean.toDoubleArray()), new Array2DRowRealMatrix(cm));
        } finally {
            rows.close();
        }
    }

    private static double maxAbs(RealMatrix a) {
        double max = 0;
        for (int i = 0; i < a.getRowDimension(); i++) {
            for (int j = 0; j < a.getColumnDimension(); j++) {
                max = Math.max(max, Math.abs(a.getEntry(i, j)));
            }
        }
        return max;
    }
}
