import threading

from tokui.activities.schedule import JOBS, Job, start_scheduler


def test_the_scheduler_enqueues_each_job_on_its_interval_until_stopped(monkeypatch):
    monkeypatch.setenv("TOKUI_TEST_FAST_MINUTES", "0.0001")  # due on every tick
    monkeypatch.setenv("TOKUI_TEST_OFF_MINUTES", "0")  # 0 turns a job off
    calls = {"fast": 0, "off": 0}
    ran = threading.Event()

    def fast() -> bool:
        calls["fast"] += 1
        if calls["fast"] >= 3:
            ran.set()
        return True

    def off() -> bool:
        calls["off"] += 1
        return True

    stop = threading.Event()
    jobs = (
        Job("fast", "TOKUI_TEST_FAST_MINUTES", 1, fast),
        Job("off", "TOKUI_TEST_OFF_MINUTES", 1, off),
    )
    thread = start_scheduler(stop, jobs, tick=0.01)
    assert ran.wait(5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert calls["off"] == 0


def test_a_failing_job_does_not_stop_the_others(monkeypatch):
    monkeypatch.setenv("TOKUI_TEST_A_MINUTES", "0.0001")
    monkeypatch.setenv("TOKUI_TEST_B_MINUTES", "0.0001")
    done = threading.Event()

    def broken() -> bool:
        raise RuntimeError("the database is away")

    def fine() -> bool:
        done.set()
        return True

    stop = threading.Event()
    jobs = (Job("a", "TOKUI_TEST_A_MINUTES", 1, broken), Job("b", "TOKUI_TEST_B_MINUTES", 1, fine))
    thread = start_scheduler(stop, jobs, tick=0.01)
    assert done.wait(5)
    stop.set()
    thread.join(5)


def test_serve_schedules_the_mail_fetch_and_the_reminders():
    assert {job.minutes_variable for job in JOBS} == {
        "TOKUI_MAIL_FETCH_MINUTES",
        "TOKUI_REMINDER_MINUTES",
    }
