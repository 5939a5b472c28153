package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class ScalarsTest {

    @Test
    void value_readsEveryCommonDataType_andLeaksNothing() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray f64 = m.create(-1.25e-300);
            NDArray f32 = m.create(0.1f);
            NDArray i32 = m.create(-7);
            NDArray i64 = m.create(1L << 40);
            NDArray f16 = m.create(2.5f).toType(DataType.FLOAT16, false);
            NDArray bool = m.create(true);
            NDArray column = m.create(new double[] {3.5}, new Shape(1, 1));
            int before = m.getManagedArrays().size();
            assertEquals(-1.25e-300, Scalars.value(f64));
            assertEquals((double) 0.1f, Scalars.value(f32));
            assertEquals(-7.0, Scalars.value(i32));
            assertEquals((double) (1L << 40), Scalars.value(i64));
            assertEquals(2.5, Scalars.value(f16));
            assertEquals(1.0, Scalars.value(bool));
            assertEquals(3.5, Scalars.value(column), "one element of any rank");
            assertEquals(before, m.getManagedArrays().size());
        }
    }

    @Test
    void value_rejectsMoreThanOneElement_andNull() {
        try (NDManager m = NDManager.newBaseManager()) {
            var e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> Scalars.value(m.zeros(new Shape(2))));
            assertTrue(e.getMessage().contains("scalar") && e.getMessage().contains("(2)"));
            var n = assertThrows(NullPointerException.class, () -> Scalars.value(null));
            assertEquals("scalar", n.getMessage());
        }
    }
}
