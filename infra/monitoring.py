"""Alarms of the stack and the SNS topic they notify.

Three kinds of alarm, each meaning that an import needs a person: a dead-letter queue holds messages, a
function raised errors, or the import workflow failed an execution. Every alarm notifies the one topic
(``AlarmTopicArn`` among the stack's outputs) when it fires and when it recovers; subscribe to it after
deploying (``docs/operations.md`` says what to do for each alarm).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

#: Function errors are summed over this period; one error in it is enough to alarm.
ERRORS_PERIOD = Duration.minutes(5)
#: Queue depth and workflow failures are checked every minute.
FAST_PERIOD = Duration.minutes(1)


class Alarms(Construct):
    """The alarm topic and the alarms that notify it.

    Parameters
    ----------
    scope
        The stack.
    construct_id
        The construct id.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # No customer data goes through this topic: alarm names, states and metric values only.
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="bulk-import alarms",
            enforce_ssl=True,
        )
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

    def _alarm(self, construct_id: str, description: str, metric: cloudwatch.IMetric) -> cloudwatch.Alarm:
        """One alarm that fires above zero, never on missing data, and notifies the topic both ways."""
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            # A metric without data points means nothing happened: an idle stack is a healthy one.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def dead_letter_queue(self, name: str, dlq: sqs.IQueue) -> cloudwatch.Alarm:
        """Alarm while messages wait in a dead-letter queue (work that failed for good)."""
        return self._alarm(
            f"{name}DlqAlarm",
            f"Messages are waiting in the dead-letter queue of {name}",
            dlq.metric_approximate_number_of_messages_visible(
                period=FAST_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
        )

    def function_errors(self, name: str, function: lambda_.IFunction) -> cloudwatch.Alarm:
        """Alarm when a function ends an invocation with an error (raised, timed out, out of memory)."""
        return self._alarm(
            f"{name}ErrorsAlarm",
            f"The {name} function ended invocations with an error",
            function.metric_errors(period=ERRORS_PERIOD, statistic=cloudwatch.Stats.SUM),
        )

    def workflow_failures(self, name: str, state_machine: sfn.IStateMachine) -> cloudwatch.Alarm:
        """Alarm when an execution of the import workflow fails."""
        return self._alarm(
            f"{name}FailedAlarm",
            f"Executions of the {name} state machine failed",
            state_machine.metric_failed(period=FAST_PERIOD, statistic=cloudwatch.Stats.SUM),
        )
