using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class SealedEventEndpointSecrets : Migration
    {
        /// <summary>
        /// The column keeps its rows: secrets stored in clear until now are sealed at start-up, after this migration, by
        /// EndpointSecrets.SealStoredInClearAsync (sealing needs the Data Protection key ring, which SQL cannot reach).
        /// </summary>
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "secret",
                table: "event_endpoints",
                newName: "sealed_secret");

            migrationBuilder.AlterColumn<string>(
                name: "sealed_secret",
                table: "event_endpoints",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(200)",
                oldMaxLength: 200);
        }

        /// <summary>Sealed secrets cannot be opened in SQL: going back leaves the endpoints' secrets to be registered again.</summary>
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                update event_endpoints set sealed_secret = '', enabled = false, disabled_at = now(),
                    disabled_reason = 'The signing secret was lost in a schema downgrade: register the endpoint again.'
                where not starts_with(sealed_secret, 'whsec_')
                """);
            migrationBuilder.AlterColumn<string>(
                name: "sealed_secret",
                table: "event_endpoints",
                type: "character varying(200)",
                maxLength: 200,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(1000)",
                oldMaxLength: 1000);

            migrationBuilder.RenameColumn(
                name: "sealed_secret",
                table: "event_endpoints",
                newName: "secret");
        }
    }
}
