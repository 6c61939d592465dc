using BillingConsole.Domain.Common;
using BillingConsole.Domain.Notifications;
using BillingConsole.Engine.Notifications;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Notifications;

[PureTests]
public sealed class NotificationTemplatesTests
{
    public static TheoryData<string> ShippedKinds => [.. NotificationKinds.Shipped];

    [Theory]
    [MemberData(nameof(ShippedKinds))]
    public void Every_shipped_template_renders_all_three_parts(string kind)
    {
        var template = NotificationTemplates.Default(kind);

        Assert.Empty(NotificationTemplates.Check(template));
        var email = NotificationTemplates.Render(template, NotificationVariables.Sample);
        Assert.DoesNotContain('\n', email.Subject);
        Assert.Contains("Ada Lovelace", email.Text);
        Assert.Contains("Ada Lovelace", email.Html);
        Assert.StartsWith("<!DOCTYPE html>", email.Html);
        // The frame carries the seller on every kind.
        Assert.Contains("Tax ID GB123456789", email.Html);
        Assert.DoesNotContain("{{", email.Html + email.Text + email.Subject);
    }

    [Fact]
    public void Values_are_escaped_in_the_html_part_and_kept_as_typed_in_the_text_part()
    {
        var variables = NotificationVariables.Sample with { CustomerName = "Tom & <Jerry> Ltd — Zürich" };

        var email = NotificationTemplates.Render(NotificationTemplates.Default(NotificationKinds.PaymentFailed), variables);

        Assert.Contains("Tom &amp; &lt;Jerry&gt; Ltd — Zürich", email.Html);
        Assert.DoesNotContain("<Jerry>", email.Html);
        Assert.Contains("Tom & <Jerry> Ltd — Zürich", email.Text);
    }

    [Fact]
    public void A_payment_failed_email_carries_the_update_card_link_and_the_next_retry_only_when_there_is_one()
    {
        var template = NotificationTemplates.Default(NotificationKinds.PaymentFailed);

        var retrying = NotificationTemplates.Render(template, NotificationVariables.Sample);
        var waiting = NotificationTemplates.Render(template, NotificationVariables.Sample with { NextRetryDate = "" });

        Assert.Contains("href=\"https://billing.example.com/pay/sample\"", retrying.Html);
        Assert.Contains("We will try again on 10 December 2026", retrying.Text);
        Assert.Contains("https://billing.example.com/pay/sample", waiting.Text);
        Assert.DoesNotContain("try again", waiting.Text);
        Assert.Equal("Action needed: your payment of $49.00 to BillingConsole Demo Ltd failed", retrying.Subject);
    }

    [Fact]
    public void An_unknown_variable_is_refused_naming_the_part_and_the_name()
    {
        var template = NotificationTemplates.Default(NotificationKinds.InvoiceIssued) with { Text = "Hello {{ customer_nmae }}" };

        var problem = Assert.Single(NotificationTemplates.Check(template));

        Assert.Equal(NotificationTemplates.TextPart, problem.Part);
        Assert.Contains("customer_nmae", problem.Message);
        var thrown = Assert.Throws<TemplateRenderException>(() => NotificationTemplates.Render(template, NotificationVariables.Sample));
        Assert.Contains("customer_nmae", thrown.Message);
    }

    [Fact]
    public void A_syntax_error_is_refused_with_its_line_and_column()
    {
        var template = NotificationTemplates.Default(NotificationKinds.InvoiceIssued) with { Html = "<p>Hello</p>\n<p>{% if amount_due %}unclosed</p>" };

        var problem = Assert.Single(NotificationTemplates.Check(template));

        Assert.Equal(NotificationTemplates.HtmlPart, problem.Part);
        Assert.Matches(@"\(\d+:\d+\)|line \d+", problem.Message);
    }

    [Fact]
    public void An_unknown_filter_and_an_empty_part_are_refused()
    {
        var template = new NotificationTemplate("{{ customer_name | shout }}", "<p>x</p>", " ");

        var problems = NotificationTemplates.Check(template);

        Assert.Equal([NotificationTemplates.SubjectPart, NotificationTemplates.TextPart], problems.Select(p => p.Part));
    }

    [Fact]
    public void A_ladder_notify_step_starts_from_the_shipped_dunning_notice()
    {
        Assert.Equal(NotificationTemplates.Default(NotificationKinds.DunningNotice), NotificationTemplates.Default("dunning_notice_day_10"));
        Assert.True(NotificationKinds.IsKnown("dunning_notice_day_10"));
        Assert.False(NotificationKinds.IsKnown("dunning_notice_day_x"));
        Assert.False(NotificationKinds.IsKnown("newsletter"));
    }

    [Fact]
    public void A_failed_delivery_waits_longer_each_time_and_is_given_up_after_the_last_attempt()
    {
        var at = new DateTimeOffset(2027, 3, 15, 9, 0, 0, TimeSpan.Zero);
        var notification = new Notification(Guid.NewGuid(), NotificationKinds.PaymentFailed, "key", null, null, at);

        notification.RecordFailure("connection refused", at);
        Assert.Equal(at.AddMinutes(1), notification.NextAttemptAt);
        notification.RecordFailure("connection refused", at);
        Assert.Equal(at.AddMinutes(2), notification.NextAttemptAt);
        for (var i = 2; i < Notification.MaxAttempts - 1; i++) notification.RecordFailure("connection refused", at);
        Assert.Equal(NotificationStatus.Pending, notification.Status);
        Assert.Equal(TimeSpan.FromHours(6), notification.NextAttemptAt - at);

        notification.RecordFailure("connection refused", at);

        Assert.Equal(NotificationStatus.Failed, notification.Status);
        Assert.Null(notification.NextAttemptAt);
        Assert.Equal("connection refused", notification.LastError);
        Assert.Throws<IllegalTransitionException>(() => notification.MarkSent("a@example.test", "s", at));
    }

    [Fact]
    public void A_sent_or_unsendable_notification_cannot_change_again()
    {
        var at = new DateTimeOffset(2027, 3, 15, 9, 0, 0, TimeSpan.Zero);
        var sent = new Notification(Guid.NewGuid(), NotificationKinds.PaymentReceived, "key", null, null, at);
        sent.MarkSent("a@example.test", "Receipt", at);
        var unsendable = new Notification(Guid.NewGuid(), NotificationKinds.PaymentReceived, "key", null, null, at);
        unsendable.MarkNotSent("no address");

        Assert.Throws<IllegalTransitionException>(() => sent.MarkSent("a@example.test", "Receipt", at));
        Assert.Throws<IllegalTransitionException>(() => sent.RecordFailure("x", at));
        Assert.Throws<IllegalTransitionException>(() => unsendable.MarkSent("a@example.test", "Receipt", at));
        Assert.Equal(NotificationStatus.NotSent, unsendable.Status);
        Assert.Equal("no address", unsendable.LastError);
    }
}
