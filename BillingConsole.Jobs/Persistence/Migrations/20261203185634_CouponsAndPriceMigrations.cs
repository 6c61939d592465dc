using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class CouponsAndPriceMigrations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "coupons",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    code = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: false),
                    name = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: false),
                    percent_off = table.Column<decimal>(type: "numeric(7,4)", precision: 7, scale: 4, nullable: true),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: true),
                    duration = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    duration_months = table.Column<int>(type: "integer", nullable: true),
                    max_redemptions = table.Column<int>(type: "integer", nullable: true),
                    redeem_by = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    times_redeemed = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    amount_off = table.Column<decimal>(type: "numeric(19,4)", precision: 19, scale: 4, nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_coupons", x => x.id);
                    table.CheckConstraint("ck_coupons_one_kind", "(percent_off is null) <> (amount_off is null)");
                    table.CheckConstraint("ck_coupons_redemptions", "max_redemptions is null or times_redeemed <= max_redemptions");
                });

            migrationBuilder.CreateTable(
                name: "price_migrations",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    from_price_id = table.Column<Guid>(type: "uuid", nullable: false),
                    to_price_id = table.Column<Guid>(type: "uuid", nullable: false),
                    timing = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    status = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    expected = table.Column<int>(type: "integer", nullable: false),
                    expected_mrr_change = table.Column<decimal>(type: "numeric(19,4)", precision: 19, scale: 4, nullable: false),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    moved = table.Column<int>(type: "integer", nullable: false),
                    skipped = table.Column<int>(type: "integer", nullable: false),
                    requested_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_price_migrations", x => x.id);
                    table.ForeignKey(
                        name: "fk_price_migrations_prices_from_price_id",
                        column: x => x.from_price_id,
                        principalTable: "prices",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_price_migrations_prices_to_price_id",
                        column: x => x.to_price_id,
                        principalTable: "prices",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "discounts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    coupon_id = table.Column<Guid>(type: "uuid", nullable: false),
                    customer_id = table.Column<Guid>(type: "uuid", nullable: false),
                    subscription_id = table.Column<Guid>(type: "uuid", nullable: true),
                    starts_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ends_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_discounts", x => x.id);
                    table.CheckConstraint("ck_discounts_window", "ends_at is null or ends_at >= starts_at");
                    table.ForeignKey(
                        name: "fk_discounts_coupons_coupon_id",
                        column: x => x.coupon_id,
                        principalTable: "coupons",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_discounts_customers_customer_id",
                        column: x => x.customer_id,
                        principalTable: "customers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_discounts_subscriptions_subscription_id",
                        column: x => x.subscription_id,
                        principalTable: "subscriptions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_coupons_code",
                table: "coupons",
                column: "code",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_discounts_coupon_id",
                table: "discounts",
                column: "coupon_id");

            migrationBuilder.CreateIndex(
                name: "ix_discounts_customer_id_subscription_id",
                table: "discounts",
                columns: new[] { "customer_id", "subscription_id" });

            migrationBuilder.CreateIndex(
                name: "ix_discounts_subscription_id",
                table: "discounts",
                column: "subscription_id");

            migrationBuilder.CreateIndex(
                name: "ix_price_migrations_from_price_id",
                table: "price_migrations",
                column: "from_price_id");

            migrationBuilder.CreateIndex(
                name: "ix_price_migrations_to_price_id",
                table: "price_migrations",
                column: "to_price_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "discounts");

            migrationBuilder.DropTable(
                name: "price_migrations");

            migrationBuilder.DropTable(
                name: "coupons");
        }
    }
}
