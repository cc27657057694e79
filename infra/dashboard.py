"""The CloudWatch dashboard of the stack: what the imports did, and whether the stack is healthy.

The first row is the product's own metrics (``bulk_import.entrypoints.metrics``): rows imported, failed and
skipped, chunks dead-lettered, calls requested and deferred, one line per import kind. Kinds are found
by a search expression rather than listed, so a new kind shows up without a change here. The rows below
are AWS's metrics: the dead-letter queues' depths, each function's errors and durations, and the
workflow's failed executions (the same metrics the alarms watch).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from bulk_import.entrypoints import metrics

#: Every graph sums or averages over this period.
PERIOD = Duration.minutes(5)
#: Graph width in dashboard columns (a row is 24).
WIDTH = 8
HEIGHT = 6


def by_kind(name: str) -> cloudwatch.MathExpression:
    """One line per import kind of the product metric ``name``, summed per period."""
    dimensions = ",".join(metrics.DIMENSIONS)
    return cloudwatch.MathExpression(
        expression=(
            f"SEARCH('{{{metrics.NAMESPACE},{dimensions}}} MetricName=\"{name}\"', 'Sum', "
            f"{int(PERIOD.to_seconds())})"
        ),
        using_metrics={},
        label=name,
        period=PERIOD,
    )


def _graph(title: str, lines: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=lines, width=WIDTH, height=HEIGHT)


class Dashboard(Construct):
    """The dashboard.

    Parameters
    ----------
    scope
        The stack.
    construct_id
        The construct id.
    functions
        The stack's functions by name (their errors and durations are graphed).
    dead_letter_queues
        The dead-letter queues by name (their depth is graphed).
    state_machine
        The import workflow (its failed executions are graphed).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        state_machine: sfn.IStateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(24))
        self.dashboard.add_widgets(
            _graph("Rows imported per kind", [by_kind(metrics.ROWS_IMPORTED)]),
            _graph("Rows failed per kind", [by_kind(metrics.ROWS_FAILED)]),
            _graph("Rows skipped per kind", [by_kind(metrics.ROWS_SKIPPED)]),
        )
        self.dashboard.add_widgets(
            _graph("Chunks dead-lettered", [by_kind(metrics.CHUNKS_DEAD_LETTERED)]),
            _graph(
                "Calls requested and deferred",
                [by_kind(metrics.CALLS_REQUESTED), by_kind(metrics.CALLS_DEFERRED)],
            ),
            _graph(
                "Dead-letter queue depth",
                [
                    queue.metric_approximate_number_of_messages_visible(
                        label=name, period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM
                    )
                    for name, queue in dead_letter_queues.items()
                ],
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Function errors",
                [
                    fn.metric_errors(label=name, period=PERIOD, statistic=cloudwatch.Stats.SUM)
                    for name, fn in functions.items()
                ],
            ),
            _graph(
                "Function duration (p99)",
                [
                    fn.metric_duration(label=name, period=PERIOD, statistic=cloudwatch.Stats.p(99))
                    for name, fn in functions.items()
                ],
            ),
            _graph(
                "Import workflow executions failed",
                [state_machine.metric_failed(period=PERIOD, statistic=cloudwatch.Stats.SUM)],
            ),
        )
