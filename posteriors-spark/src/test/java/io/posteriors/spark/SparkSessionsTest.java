package io.posteriors.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** The embedded session helper and the job statistics. */
class SparkSessionsTest {

    @Test
    void defaults_setWhatIsMissingAndKeepWhatIsSet() {
        SparkConf conf = new SparkConf().set("spark.ui.enabled", "true");
        SparkSessions.defaults(conf);
        assertEquals("true", conf.get("spark.ui.enabled"));
        assertEquals("127.0.0.1", conf.get("spark.driver.host"));
        assertTrue(conf.get("spark.executor.extraJavaOptions").contains("-Dai.djl.offline=true"));
        assertEquals("true", conf.get("spark.executorEnv.OPT_OUT_TRACKING"));
    }

    @Test
    void local_returnsTheExistingSession() {
        assertSame(TestSpark.session(), SparkSessions.local("local[2,2]"));
    }

    @Test
    void local_nonLocalMaster_refused() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> SparkSessions.local("spark://host:7077"));
        assertTrue(e.getMessage().contains("spark://host:7077"), e.getMessage());
    }

    @Test
    void jobStats_overheadIsWallMinusComputeOverSlots() {
        // 4 tasks of 100 ms each on 2 slots take 200 ms of compute; 260 ms of wall time leaves
        // 60 ms, i.e. 30 ms per task (each slot ran 2 tasks)
        JobStats s = new JobStats(4, 2, 260_000_000L, 400_000_000L, 100_000_000L);
        assertEquals(60_000_000L, s.overheadNanos());
        assertEquals(30_000_000.0, s.overheadPerTaskNanos());
        assertEquals(0, new JobStats(0, 2, 5, 0, 0).overheadPerTaskNanos());
        assertThrows(IllegalArgumentException.class, () -> new JobStats(1, 0, 0, 0, 0));
    }
}
