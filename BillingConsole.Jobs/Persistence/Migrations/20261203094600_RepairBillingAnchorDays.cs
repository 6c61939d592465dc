using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <summary>
    /// Data only: sets the billing anchor day of every subscription whose current period does not end on it to the day its
    /// period ends, as a local date in the billing time zone. An anchor day agrees when it is the period end's day, or larger
    /// than the period end's month has days and the period ends on that month's last day (anchor 31, 28 February).
    /// Rows written by an older demo generator took the anchor from the sign-up date while their periods followed the
    /// trial's end, and were renewed from the period end to the next anchor day as one full period; after this they renew
    /// whole periods. The zone is the PostgreSQL setting billing.time_zone, which the console sets to Billing:TimeZone
    /// before it migrates (MigrationHistory.MigrateWithBillingTimeZoneAsync); UTC without it. Nothing to undo: the old anchor days were wrong.
    /// </summary>
    public partial class RepairBillingAnchorDays : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                update subscriptions s
                set billing_anchor_day = local.day
                from (
                    select id,
                           extract(day from period_end)::int as day,
                           extract(day from date_trunc('month', period_end) + interval '1 month' - interval '1 day')::int as days_in_month
                    from (
                        select id, current_period_end at time zone coalesce(nullif(current_setting('billing.time_zone', true), ''), 'UTC') as period_end
                        from subscriptions
                    ) ends
                ) local
                where local.id = s.id and local.day <> least(s.billing_anchor_day, local.days_in_month);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
        }
    }
}
