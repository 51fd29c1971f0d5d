package dev.guardian.sample

import dev.guardian.ffi.AlertOutcome
import dev.guardian.ffi.AlertRecord
import dev.guardian.ffi.FallAlert
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.ModelKind
import dev.guardian.ffi.ProblemKind
import dev.guardian.ffi.SensorKind
import dev.guardian.sample.state.Decimator
import dev.guardian.sample.state.MonitorEffect
import dev.guardian.sample.state.MonitorState
import dev.guardian.sample.state.PlotBuffer
import dev.guardian.sample.state.historyRows
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

/** The sample app's plain-Kotlin state logic (sample-apps/android-guardian/.../state/MonitorState.kt). No Android here. */
class MonitorStateTest {
    private val s = 1_000_000_000L

    private fun alert(
        id: String,
        confirmed: Long,
        replay: Boolean = false,
    ) = FallAlert(id, confirmed - 3 * s, confirmed, 0.93f, 3.4f, ModelKind.FULL, replay)

    @Test
    fun `a live fall opens the alert with the detector's deadline, and counts down`() {
        val st = MonitorState()
        val fx = st.apply(GuardianEvent.Fall(alert("a1", 100 * s)), nowNs = 101 * s)
        assertEquals(listOf(MonitorEffect.OpenAlertScreen("a1")), fx)
        assertEquals(130 * s, st.alert!!.deadlineNs)
        assertEquals(29, st.secondsLeft(101 * s))
        assertEquals(1, st.secondsLeft(129 * s + 1))
        assertEquals(0, st.secondsLeft(131 * s))
        assertFalse(st.expired(129 * s))
        assertTrue(st.expired(130 * s))
    }

    @Test
    fun `a replayed fall gets a fresh window from when it arrived`() {
        val st = MonitorState()
        st.apply(GuardianEvent.Fall(alert("a1", 5 * s, replay = true)), nowNs = 1000 * s)
        assertEquals(1030 * s, st.alert!!.deadlineNs)
        assertTrue(st.alert!!.replay)
    }

    @Test
    fun `answers close the alert screen, other alerts' answers do not clear this one`() {
        val st = MonitorState()
        st.apply(GuardianEvent.Fall(alert("a1", 100 * s)), 100 * s)
        assertEquals(
            listOf(MonitorEffect.CloseAlertScreen("old", "Alert cancelled: you are OK.")),
            st.apply(GuardianEvent.AlertCancelled("old", 101 * s), 101 * s),
        )
        assertEquals("a1", st.alert!!.alertId)
        assertEquals(
            listOf(MonitorEffect.CloseAlertScreen("a1", "Nobody answered: help requested.")),
            st.apply(GuardianEvent.AlertEscalated("a1", 130 * s, false), 130 * s),
        )
        assertNull(st.alert)
        assertNull(st.secondsLeft(130 * s))
        st.apply(GuardianEvent.Fall(alert("a2", 200 * s)), 200 * s)
        assertEquals(
            listOf(MonitorEffect.CloseAlertScreen("a2", "Help requested.")),
            st.apply(GuardianEvent.AlertEscalated("a2", 201 * s, true), 201 * s),
        )
    }

    @Test
    fun `model changes and notes, newest first, at most five`() {
        val st = MonitorState()
        st.apply(GuardianEvent.ModelChanged(ModelKind.ACC_ONLY, 1), 1)
        assertEquals(ModelKind.ACC_ONLY, st.model)
        st.apply(GuardianEvent.SensorStalled(SensorKind.GYROSCOPE, 1), 1)
        st.apply(GuardianEvent.SensorResumed(SensorKind.GYROSCOPE, 2), 2)
        assertEquals(listOf("Gyroscope delivers again.", "Gyroscope silent: the accelerometer-only model takes over."), st.notes)
        repeat(6) { st.apply(GuardianEvent.Problem(ProblemKind.MODEL_FAILED, "m$it"), 3) }
        assertEquals(MonitorState.MAX_NOTES, st.notes.size)
        assertEquals("MODEL_FAILED: m5", st.notes.first())
    }

    @Test
    fun `plot buffer keeps the last points in g, decimator lets one in every n through`() {
        val p = PlotBuffer(capacity = 3)
        for (v in listOf(9.80665f, 2 * 9.80665f, 3 * 9.80665f, 4 * 9.80665f)) p.append(0f, v, 0f)
        assertArrayEquals(floatArrayOf(2f, 3f, 4f), p.points(), 1e-5f)
        val d = Decimator(every = 5)
        assertEquals(2, (1..10).count { d.take() })
    }

    @Test
    fun `history rows newest first with outcomes`() {
        val rows =
            historyRows(
                listOf(
                    AlertRecord(alert("a1", 10 * s), AlertOutcome.CANCELLED, 12 * s, true),
                    AlertRecord(alert("a2", 20 * s, replay = true), null, null, false),
                ),
            )
        assertEquals(listOf("a2", "a1"), rows.map { it.alertId })
        assertEquals("Fall (full model): Open", rows[0].title)
        assertTrue(rows[0].detail, rows[0].detail.contains("delivered again after a restart") && rows[0].detail.contains("not yet handled"))
        assertEquals("Fall (full model): I'm OK", rows[1].title)
    }
}
