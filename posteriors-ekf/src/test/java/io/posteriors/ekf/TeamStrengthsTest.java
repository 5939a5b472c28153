package io.posteriors.ekf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The online use case (the worked example of {@code docs/ekf.md}): tracking the strengths of 8
 * teams that drift over 400 rounds, each round a full round robin of 28 matches whose home side
 * wins with probability {@code sigmoid(theta_home - theta_away)} (Bradley-Terry). The true
 * strengths start N(0, 1) and take a random-walk step of sd {@code tau = 0.15} per round
 * (re-centred, as only differences are identified). Errors are measured over rounds 200 to 400 on
 * the centred filter mean.
 *
 * <p>What to expect, derived before running. Each team plays 7 matches per round, each carrying
 * Fisher information about {@code p (1 - p) ~ 0.2}, so about 1.4 per round. With transition noise
 * tau the variance settles where {@code v = (v + tau^2) / (1 + 1.4 (v + tau^2))}, {@code v ~ 0.12}:
 * a tracking error of about 0.35, and the filter's own sd of about that size, so its squared
 * z-scores average about 1. (z-scores use the variance of the centred mean, {@code (C Sigma C)_kk}
 * with {@code C = I - 1 1^T / K}: the common shift of all strengths is never observed, and the
 * dense filter's marginal variances carry its prior variance plus tau^2 per round for it, about 1
 * per team by round 400, which says nothing about the identified differences.) Without noise the
 * filter weighs all rounds alike: its mean is roughly the average of a random walk so far, which
 * lags the truth by {@code tau sqrt(t / 3)}, about 1.5 over rounds 200 to 400, while its variance
 * shrinks like {@code 1 / (1.4 t)} (sd about 0.05), so its squared z-scores run to hundreds. With 8
 * teams whose errors are strongly correlated in time, the realised RMS error varies by about 25%
 * between seasons, so the assertions keep wide margins: with noise the error is below 0.5 and below
 * half the error without; the mean squared z-score is within [0.25, 4] with noise and above 25
 * without.
 */
class TeamStrengthsTest {

    private static final int TEAMS = 8;
    private static final int ROUNDS = 400;
    private static final double TAU = 0.15;

    /** A round: the +1/-1 design matrix (matches, teams) and the home wins (matches). */
    record Round(NDArray design, NDArray homeWins) {}

    private NDManager manager;
    private final List<Round> rounds = new ArrayList<>();
    private final List<double[]> truth = new ArrayList<>();

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        Random rng = new Random(2025);
        double[] theta = new double[TEAMS];
        for (int k = 0; k < TEAMS; k++) {
            theta[k] = rng.nextGaussian();
        }
        for (int r = 0; r < ROUNDS; r++) {
            double mean = 0;
            for (int k = 0; k < TEAMS; k++) {
                theta[k] += TAU * rng.nextGaussian();
                mean += theta[k] / TEAMS;
            }
            for (int k = 0; k < TEAMS; k++) {
                theta[k] -= mean;
            }
            truth.add(theta.clone());
            int matches = TEAMS * (TEAMS - 1) / 2;
            float[][] design = new float[matches][TEAMS];
            float[] wins = new float[matches];
            int m = 0;
            for (int h = 0; h < TEAMS; h++) {
                for (int a = h + 1; a < TEAMS; a++) {
                    design[m][h] = 1;
                    design[m][a] = -1;
                    double p = 1 / (1 + Math.exp(-(theta[h] - theta[a])));
                    wins[m] = rng.nextDouble() < p ? 1 : 0;
                    m++;
                }
            }
            rounds.add(new Round(manager.create(design), manager.create(wins)));
        }
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** One log likelihood per match: y d - softplus(d), d = theta_home - theta_away. */
    static LogProbFn<Round> perMatchLogLik() {
        return (p, round) -> {
            NDArray d = round.design().matMul(p.get("strength").reshape(TEAMS, 1)).reshape(-1);
            return LogProb.of(Logistic.bernoulli(d, round.homeWins()));
        };
    }

    private TensorTree start() {
        return TensorTree.of("strength", manager.zeros(new ai.djl.ndarray.types.Shape(TEAMS)));
    }

    private static double[][] diagCov(DiagEkfState s) {
        double[] sd = s.sdDiag().get("strength").toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] c = new double[TEAMS][TEAMS];
        for (int k = 0; k < TEAMS; k++) {
            c[k][k] = sd[k] * sd[k];
        }
        return c;
    }

    private static double[][] denseCov(DenseEkfState s) {
        double[] flat = s.cov().toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] c = new double[TEAMS][TEAMS];
        for (int k = 0; k < TEAMS; k++) {
            System.arraycopy(flat, k * TEAMS, c[k], 0, TEAMS);
        }
        return c;
    }

    /** The diagonal of C S C with C = I - 1 1^T / K: variances of the centred strengths. */
    private static double[] centredVariances(double[][] cov) {
        double[] rowMean = new double[TEAMS];
        double total = 0;
        for (int i = 0; i < TEAMS; i++) {
            for (int j = 0; j < TEAMS; j++) {
                rowMean[i] += cov[i][j] / TEAMS;
            }
            total += rowMean[i] / TEAMS;
        }
        double[] v = new double[TEAMS];
        for (int k = 0; k < TEAMS; k++) {
            v[k] = cov[k][k] - 2 * rowMean[k] + total;
        }
        return v;
    }

    @Test
    void diagEkf_withTransitionNoise_followsTheDrift_andWithoutDoesNot() {
        double matches = TEAMS * (TEAMS - 1) / 2.0;
        double[] with =
                tracking(
                        DiagEkf.builder(perMatchLogLik(), matches)
                                .perSample(true)
                                .transitionSd(TAU)
                                .build(),
                        TeamStrengthsTest::diagCov);
        double[] without =
                tracking(
                        DiagEkf.builder(perMatchLogLik(), matches).perSample(true).build(),
                        TeamStrengthsTest::diagCov);
        check(with, without);
    }

    @Test
    void denseEkf_withTransitionNoise_followsTheDrift_andWithoutDoesNot() {
        double matches = TEAMS * (TEAMS - 1) / 2.0;
        double[] with =
                tracking(
                        DenseEkf.builder(perMatchLogLik(), matches)
                                .perSample(true)
                                .transitionCov(TAU * TAU)
                                .build(),
                        TeamStrengthsTest::denseCov);
        double[] without =
                tracking(
                        DenseEkf.builder(perMatchLogLik(), matches).perSample(true).build(),
                        TeamStrengthsTest::denseCov);
        check(with, without);
    }

    private static void check(double[] with, double[] without) {
        assertTrue(with[0] < 0.5, "tracking error with transition noise " + with[0]);
        assertTrue(with[0] < 0.5 * without[0], "with noise " + with[0] + ", without " + without[0]);
        assertTrue(with[1] > 0.25 && with[1] < 4, "mean squared z-score with noise " + with[1]);
        assertTrue(without[1] > 25, "mean squared z-score without noise " + without[1]);
    }

    /**
     * Returns the RMS error of the centred filter mean against the truth over the second half of
     * the season, and the mean squared z-score of those errors under the filter's marginal sds.
     */
    private <S extends State> double[] tracking(
            Transform<S, Round> t, Function<S, double[][]> covariance) {
        Function<S, double[]> mean =
                s -> s.params().get("strength").toType(DataType.FLOAT64, false).toDoubleArray();
        S state = t.init(start());
        double sum = 0;
        double z2 = 0;
        int count = 0;
        for (int r = 0; r < ROUNDS; r++) {
            Step<S> step = t.updateInPlace(state, rounds.get(r));
            step.aux().close();
            state = step.state();
            if (r >= ROUNDS / 2) {
                double[] mu = mean.apply(state);
                double[] centredVar = centredVariances(covariance.apply(state));
                double centre = 0;
                for (double x : mu) {
                    centre += x / TEAMS;
                }
                for (int k = 0; k < TEAMS; k++) {
                    double e = mu[k] - centre - truth.get(r)[k];
                    sum += e * e;
                    z2 += e * e / centredVar[k];
                    count++;
                }
            }
        }
        double[] out = {Math.sqrt(sum / count), z2 / count};
        System.out.printf(
                "%s: tracking RMSE %.3f, mean squared z %.2f%n",
                t.getClass().getSimpleName(), out[0], out[1]);
        return out;
    }
}
