-- DropForeignKey
ALTER TABLE "predictions" DROP CONSTRAINT "predictions_version_id_fkey";
